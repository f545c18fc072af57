"""RoCEv2 host stack: sans-I/O protocol engines (drivers: `fabriclab.vtime`, `fabriclab.launch.udp`).

Layers, bottom up (each module has one job):

- `framing`     BTH/RETH/AETH/ImmDt/CNP + ICRC with `struct` (tested against scapy.contrib.roce)
- `qp`          RC queue pair: WRITE/SEND segmentation, PSNs, coalesced ACKs, NAK, go-back-N,
                window; receiver modes "gbn" and "ooo"
- `dcqcn`       notification point and reaction point (paper parameters, scaled)
- `pacer`       earliest-departure-time pacing (line rate per NIC, DCQCN rate per QP)
- `nic`         one host's engine: `receive(datagram, src_ip, src_port, ce, now)`,
                `poll(now) -> [Datagram]`, `next_wakeup()`; completions in `nic.completions`
- `collectives` ring all-reduce / all-gather / reduce-scatter; all-to-all, gather (incast),
                scatter, sendrecv; all on numpy data with exact expected results
- `rank`        a collective's iterations over a NIC (`Rank.service(now)`, `Rank.summary()`)
- `report`      nccl-tests rows: size, count, type, redop, time(us), algbw, busbw, #wrong
- `runs`        `RunOptions` (every rank's NIC settings), `summarize` -> the nccl-tests row

No sockets, namespaces, processes or argparse here: the UDP socket driver, the host agent,
placement, lock-step start and `fabriclab collective` are in `fabriclab.launch`.

For experiments: build `CollectiveSpec(kind, nranks, size, dtype, op)` and `RunOptions(...)`,
then `fabriclab.launch.collective.launch([placement.in_mininet_host(h) for h in hosts],
[(ip, 4791), ...], spec, opts)`
and `runs.summarize(spec, results)` for the nccl-tests row. Each result dict carries the
rank's times, #wrong, NIC counters (CE marks, CNPs, ICRC errors), QP counters
(retransmissions, timeouts, NAKs, out-of-order, duplicates) and DCQCN rates.
"""
