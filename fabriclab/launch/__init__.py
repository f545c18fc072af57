"""Process and namespace orchestration: where host agents run and how they start together.

Above the protocol (`fabriclab.roce`: no sockets, namespaces or processes there) and beside the
Mininet driver (`fabriclab.net`):

- `udp`         real-time driver: one NIC engine over UDP sockets (ECT(0) out, IP_RECVTOS in)
- `agent`       `python -m fabriclab.launch.agent --me I --peers ...`: the one host agent
                ("ready"; per round a JSON job, "bound", "go", one JSON result); programs add
                workloads with `serve(workloads)`
- `placement`   spawn functions: here, a named netns, a pid's netns, a Mininet host
- `lockstep`    `Lockstep(spawns, argvs, ...)`: the launcher's side of the agent protocol
                (every process reaped on every exit path)
- `collective`  `launch(spawns, addrs, spec, opts)` -> per-rank dicts; `hosts_of_run(run)`
- `netns`       `BridgeFabric(n)`: throw-away namespaces on a Linux bridge (tests, --netns)
- `cli`         `fabriclab collective`
"""
