"""Virtual time: every switch, link and host of a `Topology` on one integer-ns clock.

The same cores as the real-time drivers, in one process, deterministic from a seed and
needing no root (ARCHITECTURE.md, "Two drivers, one set of cores"). Modules, one job each:

- `events`       the clock and event heap (ties broken by scheduling order), progress reports
- `frames`       Ethernet/IPv4/UDP around RoCE datagrams (ECT(0) out, CE read back)
- `links`        one link direction: seeded loss/duplication/reordering, up/down, delivery
- `switch_node`  SwitchCore + TrafficManager driven by the loop; the P4Runtime seam's switch
- `host_node`    a host NIC: RoceNic + app, framing, wake-ups
- `control`      `InProcessClient`: controller.client.P4RuntimeClient over a Device, no gRPC
- `fabric`       `Fabric(topo, FabricOptions, seed)`: build, program with the unchanged
                 FabricController, schedule control actions (`at`, `fail_link`), pcaps
- `runs`         `run_collective(topo, spec, options, seed)` -> per-rank dicts; `run_apps`
"""
