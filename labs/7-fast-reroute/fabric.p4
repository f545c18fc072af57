/* -*- P4_16 -*- */
/* fabric.p4 with your liveness.p4 in place of p4src/fabric/liveness.p4. You edit
   liveness.p4, not this file. Your liveness.p4 defines the same include guard as
   fabric.p4's, so the last #include below brings in everything else but skips fabric.p4's
   own liveness controls (included before the ingress that applies them). */
#include <core.p4>
#include <v1model.p4>
#include "../../p4src/fabric/headers.p4"
#include "../../p4src/fabric/parser.p4"
#include "../../p4src/fabric/aggregation.p4"
#include "../../p4src/fabric/tenants.p4"
#include "liveness.p4"
#include "../../p4src/fabric.p4"
