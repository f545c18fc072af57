/* -*- P4_16 -*- */
/* The solution is fabric.p4 itself: compare your liveness.p4 with
   p4src/fabric/liveness.p4; the TODO holes are the only differences. */
#include "../../../p4src/fabric.p4"
