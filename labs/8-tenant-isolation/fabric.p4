/* -*- P4_16 -*- */
/* fabric.p4 with your tenants.p4 in place of p4src/fabric/tenants.p4. You edit tenants.p4,
   not this file. Your tenants.p4 defines the same include guard as fabric.p4's, so the
   last #include below brings in everything else but skips fabric.p4's own tenants
   control. */
#include <core.p4>
#include <v1model.p4>
#include "../../p4src/fabric/headers.p4"
#include "../../p4src/fabric/parser.p4"
#include "../../p4src/fabric/aggregation.p4"
#include "tenants.p4"
#include "../../p4src/fabric.p4"
