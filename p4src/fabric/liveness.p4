/* fabric.p4 port liveness for data-plane fast reroute (docs/tenants.md, "Fast reroute").

   meta.deadPorts is a bit mask of egress ports (bit p = port p, ports 0..63) the routing
   modes must not pick. It is the OR of two signals:
     - the controller's: the default action of `port_liveness` (a table entry, so it works
       over P4Runtime on BMv2, which serves no register writes);
     - the switch's own port status: cell 0 of `port_down_signal`, which the switch process
       updates when a port's carrier goes down or up (fabriclab's switch: its port monitor;
       BMv2: the port-status callback of a thin agent writing the register through the
       Thrift runtime, the one interface simple_switch offers for it). The program only
       reads it, so nothing depends on P4Runtime register writes.
   With a dead port, ECMP picks among the live members of the group by a per-flow hash
   (the same flow keeps its port); flowlet re-picks a flow whose port died; adaptive never
   considers a dead port. Groups without candidates (more than 8 ports) stay plain ECMP. */
#ifndef _FABRIC_LIVENESS_P4_
#define _FABRIC_LIVENESS_P4_

const bit<36> KEY_NONE = 0xFFFFFFFFF;   /* "no live candidate" in the least-load search */

register<bit<64>>(1) port_down_signal;

control FabricLiveness(inout headers_t hdr,
                       inout metadata_t meta,
                       inout standard_metadata_t standard_metadata) {

    action set_dead_ports(bit<64> mask) {
        meta.deadPorts = mask;
    }

    table port_liveness {
        key = { }
        actions = { set_dead_ports; }
        default_action = set_dead_ports(0);
    }

    apply {
        port_liveness.apply();
        bit<64> signalled;
        port_down_signal.read(signalled, 0);
        meta.deadPorts = meta.deadPorts | signalled;
    }
}

#endif  /* _FABRIC_LIVENESS_P4_ */
