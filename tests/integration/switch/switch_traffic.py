"""Traffic tools the switch tests run inside their namespaces (`ip netns exec NS python ...`).

  send-udp DST_IP RATE_BPS SECONDS SIZE [TOS [DPORT]]   paced UDP stream (DPORT 5001)
  recv IFNAME SECONDS                      UDP frames to ports 5001-5009 on IFNAME -> JSON
  echo                                     UDP echo server on port 7 until killed
  ping DST_IP COUNT                        UDP round trips to DST_IP:7 -> JSON list of RTTs (s)
"""

import json
import socket
import struct
import sys
import time


def send_udp(dst: str, rate_bps: float, seconds: float, size: int, tos: int = 0,
             dport: int = 5001) -> None:
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.setsockopt(socket.IPPROTO_IP, socket.IP_TOS, tos)
    payload = bytes(size)
    interval = size * 8 / rate_bps
    start = time.monotonic()
    sent = 0
    while (now := time.monotonic()) - start < seconds:
        due = int((now - start) / interval) + 1
        while sent < due:
            sock.sendto(payload, (dst, dport))
            sent += 1
        time.sleep(interval / 2)
    print(json.dumps({"sent": sent}))


def recv(ifname: str, seconds: float) -> None:
    sock = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(0x0800))
    sock.bind((ifname, 0x0800))
    sock.settimeout(0.2)
    frames = []
    end = time.monotonic() + seconds
    print("listening", flush=True)
    while time.monotonic() < end:
        try:
            data, addr = sock.recvfrom(65536)
        except socket.timeout:
            continue
        if addr[2] == socket.PACKET_OUTGOING or len(data) < 42 or data[23] != 17:
            continue
        ihl = (data[14] & 0x0F) * 4
        dport = struct.unpack_from("!H", data, 14 + ihl + 2)[0]
        if not 5001 <= dport <= 5009:
            continue
        frames.append((time.monotonic(), len(data), struct.unpack_from("!H", data, 18)[0], dport))
    print(json.dumps({"frames": frames}))


def echo() -> None:
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("0.0.0.0", 7))
    print("listening", flush=True)
    while True:
        data, peer = sock.recvfrom(2048)
        sock.sendto(data, peer)


def ping(dst: str, count: int) -> None:
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.settimeout(1.0)
    rtts = []
    for seq in range(count):
        start = time.monotonic()
        sock.sendto(seq.to_bytes(4, "big"), (dst, 7))
        try:
            while int.from_bytes(sock.recv(64)[:4], "big") != seq:
                pass
            rtts.append(time.monotonic() - start)
        except socket.timeout:
            pass
        time.sleep(0.05)
    print(json.dumps(rtts))


if __name__ == "__main__":
    cmd, args = sys.argv[1], sys.argv[2:]
    if cmd == "send-udp":
        send_udp(args[0], float(args[1]), float(args[2]), int(args[3]), *map(int, args[4:]))
    elif cmd == "recv":
        recv(args[0], float(args[1]))
    elif cmd == "echo":
        echo()
    elif cmd == "ping":
        ping(args[0], int(args[1]))
