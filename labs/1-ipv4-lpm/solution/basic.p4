/* -*- P4_16 -*- */
/* Lab 1 solution: fabriclab's own tutorial-style router, p4src/basic.p4. Compare it with
   your ../basic.p4 (`diff labs/1-ipv4-lpm/basic.p4 p4src/basic.p4`): the TODO holes are the
   parse_ipv4 state, the ipv4_forward action and the deparser. */
#include "../../../p4src/basic.p4"
