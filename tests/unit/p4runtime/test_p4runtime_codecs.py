"""Byte strings, match keys and controller headers against a hand-written P4Info."""

import pytest
from hypothesis import given
from hypothesis import strategies as st
from finsy.proto import p4i, p4r
from google.protobuf import text_format

from fabriclab.switch.p4runtime import bytestrings, matches
from fabriclab.switch.p4runtime.p4info_index import P4InfoIndex
from fabriclab.switch.p4runtime.packet_io import PacketIO
from fabriclab.switch.p4runtime.status import INVALID_ARGUMENT, P4RuntimeError

P4INFO = text_format.Parse(
    """
tables { preamble { id: 1 name: "t" }
  match_fields { id: 1 name: "a" bitwidth: 32 match_type: LPM }
  match_fields { id: 2 name: "b" bitwidth: 8 match_type: TERNARY }
  match_fields { id: 3 name: "c" bitwidth: 16 match_type: RANGE }
  action_refs { id: 10 } }
actions { preamble { id: 10 name: "fwd" } params { id: 1 name: "port" bitwidth: 9 } }
controller_packet_metadata { preamble { id: 20 name: "packet_out" }
  metadata { id: 1 name: "egress_port" bitwidth: 9 } metadata { id: 2 name: "_pad" bitwidth: 7 } }
controller_packet_metadata { preamble { id: 21 name: "packet_in" }
  metadata { id: 1 name: "ingress_port" bitwidth: 9 } metadata { id: 2 name: "_pad" bitwidth: 7 } }
""",
    p4i.P4Info(),
)
INDEX = P4InfoIndex(P4INFO)
TABLE = INDEX.by_id["tables"][1]


def fm(field_id, **kind):
    return p4r.FieldMatch(field_id=field_id, **kind)


def test_bytestrings_accept_padding_and_reply_canonical():
    assert bytestrings.decode(b"\x00\x00\x01\xff", 9, "x") == 0x1FF
    assert bytestrings.encode(0) == b"\x00"
    assert bytestrings.encode(0x1FF) == b"\x01\xff"


def test_bytestring_too_wide_is_invalid_argument_and_empty_is_zero():
    """PI's bytestring_p4rt_to_pi (proto/frontend/src/common.cpp), which simple_switch_grpc runs:
    a value wider than the field is INVALID_ARGUMENT (the spec says OUT_OF_RANGE) and an empty
    string is padded to 0 (the spec rejects it); we answer as BMv2 does."""
    with pytest.raises(P4RuntimeError) as err:
        bytestrings.decode(b"\x02\x00", 9, "x")
    assert err.value.code == INVALID_ARGUMENT
    assert bytestrings.decode(b"", 9, "x") == 0


def test_omitted_fields_are_wildcards_and_stay_omitted():
    key = matches.decode_key(TABLE, [fm(1, lpm=p4r.FieldMatch.LPM(value=b"\x0a\x00\x00\x00", prefix_len=8))])
    assert key == ((0x0A000000, 8), (0, 0), (0, 0xFFFF))
    encoded = matches.encode_key(TABLE, key)
    assert [m.field_id for m in encoded] == [1] and encoded[0].lpm.value == b"\x0a\x00\x00\x00"


@pytest.mark.parametrize(
    "match",
    [
        fm(1, lpm=p4r.FieldMatch.LPM(value=b"\x0a\x00\x00\x01", prefix_len=8)),  # bits past prefix
        fm(1, lpm=p4r.FieldMatch.LPM(value=b"\x00", prefix_len=0)),  # /0 must be omitted
        fm(2, ternary=p4r.FieldMatch.Ternary(value=b"\x01", mask=b"\x00")),  # zero mask
        fm(2, ternary=p4r.FieldMatch.Ternary(value=b"\x03", mask=b"\x01")),  # value outside mask
        fm(3, range=p4r.FieldMatch.Range(low=b"\x05", high=b"\x04")),  # low > high
        fm(3, range=p4r.FieldMatch.Range(low=b"\x00", high=b"\xff\xff")),  # full range
        fm(2, exact=p4r.FieldMatch.Exact(value=b"\x01")),  # wrong kind
        fm(9, exact=p4r.FieldMatch.Exact(value=b"\x01")),  # unknown field
    ],
)
def test_invalid_matches(match):
    with pytest.raises(P4RuntimeError) as err:
        matches.decode_key(TABLE, [match])
    assert err.value.code == INVALID_ARGUMENT


def test_action_params_checked():
    with pytest.raises(P4RuntimeError) as err:
        matches.decode_action(INDEX, p4r.Action(action_id=10), TABLE)
    assert err.value.code == INVALID_ARGUMENT
    call = matches.decode_action(
        INDEX, p4r.Action(action_id=10, params=[p4r.Action.Param(param_id=1, value=b"\x00\x03")]), TABLE)
    assert call.params == (3,)


def test_packet_out_header_packs_bits_and_packet_in_splits_them():
    io = PacketIO(INDEX)
    msg = p4r.PacketOut(payload=b"xyz", metadata=[
        p4r.PacketMetadata(metadata_id=1, value=b"\x01\x02"), p4r.PacketMetadata(metadata_id=2, value=b"\x00")])
    assert io.packet_out_bytes(msg) == bytes([0x81, 0x00]) + b"xyz"  # 9 bits 0x102 then 7 zero bits
    pin = io.packet_in(bytes([0x81, 0x00]) + b"abc")
    assert pin.payload == b"abc"
    assert [(m.metadata_id, m.value) for m in pin.metadata] == [(1, b"\x01\x02"), (2, b"\x00")]


def test_packet_out_missing_metadata_is_zeros_and_an_unknown_id_invalid():
    """As PI's PacketOutMutate: a field left out is sent as zeros; an id the header lacks is refused."""
    assert PacketIO(INDEX).packet_out_bytes(p4r.PacketOut(payload=b"x")) == b"\x00\x00x"
    unknown = p4r.PacketOut(payload=b"x", metadata=[p4r.PacketMetadata(metadata_id=9, value=b"\x01")])
    with pytest.raises(P4RuntimeError) as err:
        PacketIO(INDEX).packet_out_bytes(unknown)
    assert err.value.code == INVALID_ARGUMENT


@given(
    lpm=st.integers(0, 32).flatmap(lambda n: st.tuples(st.integers(0, (1 << n) - 1).map(lambda v: v << (32 - n)), st.just(n))),
    ternary=st.integers(0, 255).flatmap(lambda m: st.tuples(st.integers(0, 255).map(lambda v: v & m), st.just(m))),
    bounds=st.tuples(st.integers(0, 0xFFFF), st.integers(0, 0xFFFF)).map(sorted).map(tuple),
)
def test_keys_survive_encode_then_decode(lpm, ternary, bounds):
    key = (lpm if lpm[1] else (0, 0), ternary if ternary[1] else (0, 0), bounds)
    assert matches.decode_key(TABLE, matches.encode_key(TABLE, key)) == key


@given(st.integers(0, (1 << 48) - 1), st.integers(0, 4))
def test_padded_bytestrings_decode_to_the_same_value(value, pad):
    data = b"\x00" * pad + bytestrings.encode(value)
    assert bytestrings.decode(data, 48, "x") == value
    assert bytestrings.encode(bytestrings.decode(data, 48, "x")) == bytestrings.encode(value)
