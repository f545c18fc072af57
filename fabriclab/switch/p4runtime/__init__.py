"""P4Runtime server of the built-in v1model switch (`p4.v1.P4Runtime`, API 1.3.0).

Layers, outer to inner: `server` (gRPC servicer, threads, streams) -> `device` (sans-I/O
P4Runtime semantics: pipeline config, writes, reads, arbitration) -> entity codecs
(`tables`, `action_profiles`, `externs`, `replication`, `digests`, `packet_io`) that
translate between protobuf entities and the switch core's runtime state.
"""
