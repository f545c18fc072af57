"""Programs of p4c's positive corpus that its front end accepts (issue4775,
issue5211_simplify_parsers_dup_state_local_var_decl, gauntlet_infinite_loop, ...): each
feature in a small v1model program that runs on the switch, and where fabriclab checks a
rule, a close variant that is rejected at the line p4c names."""

from fabriclab.switch.core import SwitchCore

from tests.unit.p4.marked import build, compiles, rejected_at


def run(frame: bytes, **slots: str) -> bytes:
    """The frame out of port 2 of the program `build(**slots)` (its ingress sets the port)."""
    slots["APPLY"] = slots.get("APPLY", "") + " sm.egress_spec = 2;"
    [(port, out)] = SwitchCore(compiles(build(**slots))).process(1, frame, 0)
    assert port == 2
    return out


# -- functions overload one another by their number of arguments (p4c: issue4775) ------------
OVERLOADS = """
bit<8> f(in bit<8> x) { return x + 1; }
bit<8> f(in bit<8> x, in bit<8> y) { return x + y; }
"""


def test_a_call_picks_the_function_overload_its_arguments_fit():
    out = run(bytes([10, 0, 0]), DECLS=OVERLOADS,
              APPLY="hdr.h.b = (bit<16>)f(hdr.h.a, 8w5); hdr.h.a = f(hdr.h.a);")
    assert out == bytes([11, 0, 15])


def test_a_call_that_fits_no_overload_is_rejected():
    rejected_at(build(DECLS=OVERLOADS, APPLY="@@hdr.h.a = f(hdr.h.a, 8w1, 8w2);"),
                "no overload of function 'f' takes 3 arguments")


# -- a parser's parameter hides a type of its name in the parser (p4c's lexer declares it) ----
SHADOWING_PARSER = """
parser Sub(packet_in pkt, out h_t h_t) {
    state start { pkt.extract(h_t); h_t.a = h_t.a + 1; transition accept; }
}
"""


def test_a_parser_parameter_named_like_a_type_is_a_value_in_its_body():
    out = run(bytes([1, 0, 0, 7, 0, 0]), HEADERS="h_t h; h_t h2;", DECLS=SHADOWING_PARSER,
              PARSER_LOCALS="Sub() sub;", PARSER="sub.apply(pkt, hdr.h2);",
              LOCALS="h_t copy;", APPLY="copy = hdr.h2; hdr.h.a = copy.a;")
    assert out == bytes([8, 0, 0])
