/* Lab 8: per-tenant meters and policy. This is fabric.p4's tenants control
   (p4src/fabric/tenants.p4, described in docs/tenants.md) with three TODO holes: what the
   policy actions do, the colour of a packet, and the tenant's queue. Classification, the
   tables and the counters work already.

   A tenant is a set of hosts, recognised by source IPv4 address (tenant_classify gives
   meta.tenant and meta.tenantPriority, its queue). Each tenant has two trTCM meters at
   index meta.tenant: tenant_bytes (CIR = its guaranteed share, PIR = its cap, written by
   `fabriclab ctl tenant`) and tenant_packets (packet rate; unconfigured, it colours GREEN).
   Colours are v1model's: GREEN 0, YELLOW 1, RED 2. tenant_policy maps (tenant, colour) to
   an action: the controller installs tenant_remark for YELLOW and tenant_drop for RED. */
#ifndef _FABRIC_TENANTS_P4_
#define _FABRIC_TENANTS_P4_

const bit<32> TENANT_SLOTS = 64;

control FabricTenants(inout headers_t hdr,
                      inout metadata_t meta,
                      inout standard_metadata_t standard_metadata) {

    meter(TENANT_SLOTS, MeterType.bytes) tenant_bytes;
    meter(TENANT_SLOTS, MeterType.packets) tenant_packets;
    /* index tenant * 4 + colour */
    counter(TENANT_SLOTS * 4, CounterType.packets_and_bytes) tenant_colors;

    action set_tenant(bit<8> tenant, bit<3> priority) {
        meta.tenant = tenant;
        meta.tenantPriority = priority;
    }

    table tenant_classify {
        key = { hdr.ipv4.srcAddr: lpm; }
        actions = { set_tenant; NoAction; }
        default_action = NoAction();
        size = TENANT_SLOTS;
    }

    action tenant_remark(bit<6> dscp, bit<3> priority) {
        /* TODO 1: a YELLOW packet (above the guarantee, below the cap) is remarked: its
           IPv4 DSCP becomes `dscp` and it is sent from queue `priority` (the controller
           passes the tenant's own queue, so a flow is never reordered against itself). */
    }

    action tenant_drop() {
        /* TODO 1: a RED packet (above the cap) is dropped (v1model: mark_to_drop). */
    }

    table tenant_policy {
        key = {
            meta.tenant: exact;
            meta.tenantColor: exact;
        }
        actions = { tenant_remark; tenant_drop; NoAction; }
        default_action = NoAction();
        size = TENANT_SLOTS * 4;
    }

    apply {
        if (tenant_classify.apply().hit) {
            bit<2> by_bytes;
            bit<2> by_packets;
            tenant_bytes.execute_meter((bit<32>)meta.tenant, by_bytes);
            /* TODO 2: run the packet meter too (tenant_packets at the same index, into
               by_packets); the packet's colour, meta.tenantColor, is the worse of the two
               (the larger value: RED 2 > YELLOW 1 > GREEN 0). */
            /* TODO 3: the tenant's data goes to its queue (meta.tenantPriority), unless
               traffic_class already chose one (standard_metadata.priority is not 0: CNPs
               and ACKs go ahead of data). */
            tenant_policy.apply();
            tenant_colors.count((bit<32>)meta.tenant * 4 + (bit<32>)meta.tenantColor);
        }
    }
}

#endif  /* _FABRIC_TENANTS_P4_ */
