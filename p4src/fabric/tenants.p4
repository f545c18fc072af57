/* fabric.p4 tenants (docs/tenants.md): a tenant is a set of hosts, recognised on the wire by
   source IPv4 prefix (hosts keep their addresses whatever DSCP an application picks, so a
   tenant cannot escape its class by re-marking). Per tenant:
     - two trTCM meters, one in bytes (bandwidth: CIR = guaranteed share, PIR = cap) and one
       in packets (packet rate); the packet's colour is the worse of the two, and an
       unconfigured meter colours GREEN;
     - a colour policy: YELLOW is remarked (DSCP, queue: the controller keeps the tenant's
       queue, so a flow is never reordered against itself), RED is dropped;
     - a queue (standard_metadata.priority) for its data; traffic_class decisions made
       before (CNPs, ACKs in higher queues) are kept;
     - counters per tenant and colour.
   Colours are v1model's: GREEN 0, YELLOW 1, RED 2. */
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
        hdr.ipv4.dscp = dscp;
        standard_metadata.priority = priority;
    }

    action tenant_drop() {
        mark_to_drop(standard_metadata);
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
            tenant_packets.execute_meter((bit<32>)meta.tenant, by_packets);
            meta.tenantColor = (by_bytes > by_packets) ? by_bytes : by_packets;
            if (standard_metadata.priority == 0) {
                standard_metadata.priority = meta.tenantPriority;
            }
            tenant_policy.apply();
            tenant_colors.count((bit<32>)meta.tenant * 4 + (bit<32>)meta.tenantColor);
        }
    }
}

#endif  /* _FABRIC_TENANTS_P4_ */
