/* -*- P4_16 -*- */
/* fabric.p4 with your egress.p4 in place of p4src/fabric/egress.p4. You edit egress.p4,
   not this file. Your egress.p4 defines the same include guard as fabric.p4's, so the
   last #include below brings in everything else but skips fabric.p4's own egress. */
#include <core.p4>
#include <v1model.p4>
#include "../../p4src/fabric/headers.p4"
#include "../../p4src/fabric/parser.p4"
#include "../../p4src/fabric/aggregation.p4"
#include "../../p4src/fabric/tenants.p4"
#include "../../p4src/fabric/liveness.p4"
#include "../../p4src/fabric/border.p4"
#include "../../p4src/fabric/ingress.p4"
#include "egress.p4"
#include "../../p4src/fabric.p4"
