/* -*- P4_16 -*- */
/* fabriclab's AI-fabric data plane (v1model): L3 routing over next-hop groups with three
   run-time routing modes (ECMP, flowlet, per-packet adaptive), RED-like ECN marking,
   DSCP/RoCE-opcode priority queues, INT-MD telemetry with reports to a collector,
   per-port counters, in-network aggregation (docs/aggregation.md) and the border role
   between sites (border.p4: near-source notification onto the DCI). docs/fabric.md
   describes the tables the controller programs. */
#include <core.p4>
#include <v1model.p4>

#include "fabric/headers.p4"
#include "fabric/parser.p4"
#include "fabric/aggregation.p4"
#include "fabric/tenants.p4"
#include "fabric/liveness.p4"
#include "fabric/border.p4"
#include "fabric/ingress.p4"
#include "fabric/egress.p4"
#include "fabric/deparser.p4"

V1Switch(FabricParser(),
         FabricVerifyChecksum(),
         FabricIngress(),
         FabricEgress(),
         FabricComputeChecksum(),
         FabricDeparser()) main;
