/* fabric.p4 border role (docs/fabric.md, docs/scale_across.md). A border switch joins its
   site to the DCI: the controller writes a `dci_ports` entry for each of its DCI ports.
   A RoCE request routed onto one of them gets near-source notification: when that port's
   queue holds at least `threshold` packets (a fraction of the long path's BDP, not of a
   site's), the border sends a CNP back to the sender in its own site, at most one per flow
   per `interval_us`, so the sender hears of the DCI's congestion within a site round trip
   instead of a cross-site one. The entry overrides the traffic class's switch_notify
   settings for that packet; the check, rate limit, clone and CNP are switch_notify's
   (ingress.p4 notify_clone, egress.p4 notify_build), and port_notifications counts them.
   ECN on the DCI egress is ecn_config's per-port entry with thresholds scaled to the DCI
   BDP (the deep buffer is the traffic manager's, per priority queue), and INT stacks cross
   the DCI like any transit hop: a border is no sink, so the controller sees both sites. */
#ifndef _FABRIC_BORDER_P4_
#define _FABRIC_BORDER_P4_

control FabricBorder(inout headers_t hdr,
                     inout metadata_t meta,
                     inout standard_metadata_t standard_metadata) {

    action dci_notify(bit<32> threshold, bit<48> interval_us, bit<6> cnp_dscp) {
        meta.notifyOn = 1;
        meta.notifyThreshold = threshold;
        meta.notifyInterval = interval_us;
        meta.notifyDscp = cnp_dscp;
    }

    table dci_ports {
        key = { standard_metadata.egress_spec: exact; }
        actions = { dci_notify; NoAction; }
        default_action = NoAction();
        size = PORT_SLOTS;
    }

    apply {
        dci_ports.apply();
    }
}

#endif  /* _FABRIC_BORDER_P4_ */
