"""RoCEv2 host stack: sans-I/O protocol engines with thin real-time and virtual-time drivers.

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
- `sim`         virtual-time driver: NICs on one output-queued switch (rate, delay, queue,
                RED-like ECN, loss, duplication, reordering)
- `driver`      real-time driver over UDP sockets (ECT(0) out, IP_RECVTOS for CE in)
- `host`        `python -m fabriclab.roce.host --rank R --peers IP[:PORT],...`: one rank process
- `placement`   spawn functions: here, named netns, pid's netns, Mininet host, running net
- `lockstep`    `Lockstep(spawns, argvs, ...)`: start worker processes, wait until all are ready,
                start them together, collect one JSON result each (reaped on every exit path)
- `runs`        `simulate(spec, opts)` and `launch(spawns, addrs, spec, opts)` -> per-rank dicts
                (`rank_argv` builds each rank's command line; `launch` runs them via `lockstep`)
- `netns`       `BridgeFabric(n)`: throw-away namespaces on a Linux bridge (tests, --netns)
- `cli`         `fabriclab collective`

For experiments: build `CollectiveSpec(kind, nranks, size, dtype, op)` and `RunOptions(...)`,
then `launch([placement.in_mininet_host(h) for h in hosts], [(ip, 4791), ...], spec, opts)`
and `runs.summarize(spec, results)` for the nccl-tests row. Each result dict carries the
rank's times, #wrong, NIC counters (CE marks, CNPs, ICRC errors), QP counters
(retransmissions, timeouts, NAKs, out-of-order, duplicates) and DCQCN rates.
"""
