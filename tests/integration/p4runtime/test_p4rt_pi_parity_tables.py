"""Table, direct-resource and counter/meter codes as simple_switch_grpc answers them.

Each test names the p4lang/PI function (proto/frontend/src/device_mgr.cpp unless said
otherwise) whose answer it pins; where PI departs from the spec, the docstring says so (we
answer as the switch we replace).
"""

import pathlib

import grpc
import pytest
from finsy.proto import p4r

from p4rt_client import action, batch_errors, exact, failure_code, pid, update

from fabriclab.switch import externs

Code = grpc.StatusCode
ACL_SRC = p4r.FieldMatch(field_id=1, ternary=p4r.FieldMatch.Ternary(value=b"\x0a\x00\x00\x01", mask=b"\xff" * 4))


def acl_entry(info, **extra) -> p4r.TableEntry:
    return p4r.TableEntry(table_id=pid(info, "tables", "acl"), priority=1, match=[ACL_SRC], **extra)


def dmac_entry(info, mac=b"\x0b", act=None, **extra) -> p4r.TableEntry:
    entry = p4r.TableEntry(table_id=pid(info, "tables", "dmac"), match=[exact(1, mac)], **extra)
    if act is not False:
        entry.action.CopyFrom(act if act is not None else action(info, "forward", b"\x01"))
    return entry


def frame(dst: bytes = b"\x00" * 5 + b"\x0b", ethertype: bytes = b"\x88\xb5") -> bytes:
    return dst + b"\x00\x00\x00\x00\x00\x0a" + ethertype + b"x" * 50


def ipv4_frame(dst_ip: bytes, src_ip: bytes = b"\x0a\x00\x00\x01") -> bytes:
    ipv4 = bytes([0x45, 0, 0, 20, 0, 0, 0, 0, 64, 17, 0, 0]) + src_ip + dst_ip
    return b"\x00" * 5 + b"\x01" + b"\x00" * 5 + b"\x02" + b"\x08\x00" + ipv4 + b"x" * 26


def codes(ctl, *updates) -> list[Code]:
    """Each update's own code (OK included) from one Write batch."""
    try:
        ctl.write(*updates)
    except grpc.RpcError as err:
        return [next(c for c in Code if c.value[0] == e.canonical_code) for e in batch_errors(err)]
    return [Code.OK] * len(updates)


def read_code(ctl, entity) -> Code:
    try:
        ctl.read(entity)
    except grpc.RpcError as err:
        return err.code()
    return Code.OK


def counter_cell(ctl, info, index: int) -> p4r.CounterData:
    [cell] = ctl.read(p4r.Entity(counter_entry=p4r.CounterEntry(
        counter_id=pid(info, "counters", "port_counter"), index=p4r.Index(index=index))))
    return cell.counter_entry.data


# ---------------------------------------------------------------- item 1


def test_direct_counter_or_meter_of_a_missing_entry_is_invalid_argument(primary, compiled):
    """entry_handle_from_table_entry: a key no entry has is "Cannot map table entry to handle",
    INVALID_ARGUMENT, for direct_counter_read/write and direct_meter_read/write (spec: NOT_FOUND)."""
    info = compiled.p4info
    missing = acl_entry(info)
    assert read_code(primary, p4r.Entity(direct_counter_entry=p4r.DirectCounterEntry(table_entry=missing))) == \
        Code.INVALID_ARGUMENT
    assert read_code(primary, p4r.Entity(direct_meter_entry=p4r.DirectMeterEntry(table_entry=missing))) == \
        Code.INVALID_ARGUMENT
    assert codes(primary,
                 update("MODIFY", direct_counter_entry=p4r.DirectCounterEntry(
                     table_entry=missing, data=p4r.CounterData(packet_count=1))),
                 update("MODIFY", direct_meter_entry=p4r.DirectMeterEntry(
                     table_entry=missing, config=p4r.MeterConfig(cir=1, cburst=1, pir=2, pburst=2)))) == \
        [Code.INVALID_ARGUMENT, Code.INVALID_ARGUMENT]


# ---------------------------------------------------------------- items 2 and 3


def test_counter_modify_without_data_writes_zeros(primary, compiled, switch_and_address):
    """counter_write MODIFY: counter_data_proto_to_pi of an unset `data` is zeros, written
    (the spec would leave the cell as it is)."""
    switch, _ = switch_and_address
    info = compiled.p4info
    switch.receive(3, frame())
    assert counter_cell(primary, info, 3).packet_count == 1
    primary.write(update("MODIFY", counter_entry=p4r.CounterEntry(
        counter_id=pid(info, "counters", "port_counter"), index=p4r.Index(index=3))))
    assert counter_cell(primary, info, 3) == p4r.CounterData()
    assert switch.core.counters["MyIngress.port_counter"].read(3) == externs.CounterData(0, 0)


def test_delete_resets_a_counter_or_direct_counter_cell(primary, compiled, switch_and_address):
    """counter_write / direct_counter_write DELETE: the cell is reset to 0 and the update is OK.
    A DirectMeterEntry DELETE stays INVALID_ARGUMENT (direct_meter_write); the default entry's
    direct counter is refused by BMv2's PI target (UNKNOWN) for DELETE as for MODIFY."""
    switch, _ = switch_and_address
    info = compiled.p4info
    counter = pid(info, "counters", "port_counter")
    primary.write(update("INSERT", table_entry=acl_entry(info, action=action(info, "acl_permit"))))
    switch.receive(2, ipv4_frame(b"\x0a\x00\x00\x09"))
    assert counter_cell(primary, info, 2).packet_count == 1
    [direct] = primary.read(p4r.Entity(direct_counter_entry=p4r.DirectCounterEntry(table_entry=acl_entry(info))))
    assert direct.direct_counter_entry.data.packet_count == 1
    default = p4r.TableEntry(table_id=pid(info, "tables", "acl"), is_default_action=True)
    assert codes(primary,
                 update("DELETE", counter_entry=p4r.CounterEntry(counter_id=counter, index=p4r.Index(index=2))),
                 update("DELETE", direct_counter_entry=p4r.DirectCounterEntry(table_entry=acl_entry(info))),
                 update("DELETE", direct_meter_entry=p4r.DirectMeterEntry(table_entry=acl_entry(info))),
                 update("DELETE", direct_counter_entry=p4r.DirectCounterEntry(table_entry=default))) == \
        [Code.OK, Code.OK, Code.INVALID_ARGUMENT, Code.UNKNOWN]
    assert counter_cell(primary, info, 2) == p4r.CounterData()
    [direct] = primary.read(p4r.Entity(direct_counter_entry=p4r.DirectCounterEntry(table_entry=acl_entry(info))))
    assert direct.direct_counter_entry.data == p4r.CounterData()
    assert switch.core.tables["MyIngress.acl"].entries()[0].direct.counter == externs.CounterData(0, 0)
    # the entry itself stays, and counts again
    switch.receive(2, ipv4_frame(b"\x0a\x00\x00\x09"))
    assert counter_cell(primary, info, 2).packet_count == 1


# ---------------------------------------------------------------- item 4


def test_the_default_entry_keeps_its_metadata(primary, compiled):
    """table_modify stores metadata and controller_metadata for the default entry too, and
    table_read_default returns them; a MODIFY without an action (reset) clears them."""
    info = compiled.p4info
    table = pid(info, "tables", "dmac")
    default = p4r.TableEntry(table_id=table, is_default_action=True, action=action(info, "forward", b"\x05"),
                             metadata=b"cookie", controller_metadata=42)
    primary.write(update("MODIFY", table_entry=default))
    query = p4r.Entity(table_entry=p4r.TableEntry(table_id=table, is_default_action=True))
    [got] = primary.read(query)
    assert got.table_entry == default
    [everyone] = [e for e in primary.read(p4r.Entity(table_entry=p4r.TableEntry(is_default_action=True)))
                  if e.table_entry.table_id == table]
    assert (everyone.table_entry.metadata, everyone.table_entry.controller_metadata) == (b"cookie", 42)
    primary.write(update("MODIFY", table_entry=p4r.TableEntry(table_id=table, is_default_action=True)))
    [reset] = primary.read(query)
    assert (reset.table_entry.metadata, reset.table_entry.controller_metadata) == (b"", 0)


# ---------------------------------------------------------------- item 5


def test_meter_config_of_minus_one_is_accepted_and_means_green(primary, compiled, switch_and_address):
    """validate_meter_spec accepts -1 (a legacy 'always GREEN'). All four -1 is BMv2's reset
    (bm PI direct_res_spec.cpp convert_from_meter_spec): unconfigured, read without a config.
    A -1 rate alone is unlimited (PI casts it to uint64): that bucket never marks a packet,
    and reads give the -1 back (meter_spec_pi_to_proto)."""
    switch, _ = switch_and_address
    info = compiled.p4info
    meter = pid(info, "meters", "port_meter")
    cells = switch.core.meters["MyIngress.port_meter"]
    minus_one = p4r.MeterConfig(cir=-1, cburst=-1, pir=-1, pburst=-1)
    one = p4r.MeterConfig(cir=1, cburst=1, pir=1, pburst=1)
    primary.write(update("MODIFY", meter_entry=p4r.MeterEntry(meter_id=meter, index=p4r.Index(index=1), config=one)))
    assert cells.config(1) is not None
    primary.write(update("MODIFY", meter_entry=p4r.MeterEntry(meter_id=meter, index=p4r.Index(index=1),
                                                               config=minus_one)))
    [cell] = primary.read(p4r.Entity(meter_entry=p4r.MeterEntry(meter_id=meter, index=p4r.Index(index=1))))
    assert not cell.meter_entry.HasField("config")
    assert cells.config(1) is None
    assert {cells.execute(1, 1500, 1000) for _ in range(10)} == {externs.GREEN}
    # CIR 5/s with a burst of 1, PIR unlimited: YELLOW once the committed bucket is empty, never RED
    peak_free = p4r.MeterConfig(cir=5, cburst=1, pir=-1, pburst=-1)
    primary.write(update("MODIFY", meter_entry=p4r.MeterEntry(meter_id=meter, index=p4r.Index(index=4),
                                                               config=peak_free)))
    [cell] = primary.read(p4r.Entity(meter_entry=p4r.MeterEntry(meter_id=meter, index=p4r.Index(index=4))))
    assert cell.meter_entry.config == peak_free
    assert [cells.execute(4, 100, 2000) for _ in range(4)] == [externs.GREEN] + [externs.YELLOW] * 3
    # a direct meter in a TableEntry and a DirectMeterEntry take it too
    entry = acl_entry(info, action=action(info, "acl_permit"), meter_config=minus_one)
    primary.write(update("INSERT", table_entry=entry))
    [got] = primary.read(p4r.Entity(table_entry=acl_entry(info, meter_config=p4r.MeterConfig())))
    assert not got.table_entry.HasField("meter_config")
    assert switch.core.tables["MyIngress.acl"].entries()[0].direct.meter.config is None
    primary.write(update("MODIFY", direct_meter_entry=p4r.DirectMeterEntry(table_entry=acl_entry(info),
                                                                           config=peak_free)))
    [got] = primary.read(p4r.Entity(direct_meter_entry=p4r.DirectMeterEntry(table_entry=acl_entry(info))))
    assert got.direct_meter_entry.config == peak_free
    # below -1 is still INVALID_ARGUMENT
    assert failure_code(lambda: primary.write(update("MODIFY", meter_entry=p4r.MeterEntry(
        meter_id=meter, index=p4r.Index(index=1), config=p4r.MeterConfig(cir=-2, pir=1))))) == Code.INVALID_ARGUMENT


def test_pir_below_cir_is_unknown_and_changes_nothing(primary, compiled, switch_and_address):
    """BMv2 refuses PIR < CIR (meters.cpp set_rate: INVALID_INFO_RATE_VALUE); PI answers its
    target's refusal UNKNOWN (meter_write, direct_meter_write, table_insert). A -1 CIR is above
    any PIR but -1. Nothing is written: the entry is not added, the cell keeps its config."""
    switch, _ = switch_and_address
    info = compiled.p4info
    meter = pid(info, "meters", "port_meter")
    good = p4r.MeterConfig(cir=10, cburst=2, pir=20, pburst=4)
    bad = p4r.MeterConfig(cir=10, cburst=2, pir=5, pburst=4)
    unlimited_cir = p4r.MeterConfig(cir=-1, cburst=2, pir=5, pburst=4)
    primary.write(update("MODIFY", meter_entry=p4r.MeterEntry(meter_id=meter, index=p4r.Index(index=2), config=good)))
    primary.write(update("INSERT", table_entry=acl_entry(info, action=action(info, "acl_permit"), meter_config=good)))
    other_acl = p4r.TableEntry(table_id=pid(info, "tables", "acl"), priority=2, match=[ACL_SRC],
                               action=action(info, "acl_permit"), meter_config=bad)
    assert codes(primary,
                 update("MODIFY", meter_entry=p4r.MeterEntry(meter_id=meter, index=p4r.Index(index=2), config=bad)),
                 update("MODIFY", meter_entry=p4r.MeterEntry(meter_id=meter, index=p4r.Index(index=2),
                                                             config=unlimited_cir)),
                 update("MODIFY", direct_meter_entry=p4r.DirectMeterEntry(table_entry=acl_entry(info), config=bad)),
                 update("INSERT", table_entry=other_acl),
                 update("MODIFY", table_entry=acl_entry(info, action=action(info, "acl_permit"),
                                                        meter_config=bad))) == [Code.UNKNOWN] * 5
    [cell] = primary.read(p4r.Entity(meter_entry=p4r.MeterEntry(meter_id=meter, index=p4r.Index(index=2))))
    assert cell.meter_entry.config == good
    [got] = primary.read(p4r.Entity(direct_meter_entry=p4r.DirectMeterEntry(table_entry=acl_entry(info))))
    assert got.direct_meter_entry.config == good
    assert len(switch.core.tables["MyIngress.acl"].entries()) == 1
    # a duplicate is ALREADY_EXISTS before the target is asked (table_insert)
    assert failure_code(lambda: primary.write(update("INSERT", table_entry=acl_entry(
        info, action=action(info, "acl_permit"), meter_config=bad)))) == Code.ALREADY_EXISTS


# ---------------------------------------------------------------- item 6


def test_const_entries_are_not_found_for_modify_and_delete(primary, compiled, switch_and_address):
    """PI's table store (table_modify / table_delete look entries up there) holds no const
    entries: MODIFY and DELETE of one are NOT_FOUND (the spec says PERMISSION_DENIED). The
    entry stays and keeps dropping. (INSERT stays PERMISSION_DENIED: tests/unit/p4runtime/
    test_conformance_p4runtime.py pins the spec's code; PI answers UNKNOWN there.)"""
    switch, _ = switch_and_address
    info = compiled.p4info
    const = p4r.TableEntry(table_id=pid(info, "tables", "ethertype_filter"), match=[exact(1, b"\x99\x99")],
                           action=action(info, "NoAction"))
    primary.write(update("INSERT", table_entry=dmac_entry(info)))
    assert switch.receive(1, frame(ethertype=b"\x99\x99")) == []
    assert codes(primary, update("MODIFY", table_entry=const), update("DELETE", table_entry=const)) == \
        [Code.NOT_FOUND, Code.NOT_FOUND]
    [got] = primary.read(p4r.Entity(table_entry=p4r.TableEntry(table_id=const.table_id)))
    assert got.table_entry.action.action.action_id == pid(info, "actions", "drop")
    assert switch.receive(1, frame(ethertype=b"\x99\x99")) == []
    assert [p for p, _ in switch.receive(1, frame())] == [1]


# ---------------------------------------------------------------- item 7


def test_modify_of_a_missing_entry_checks_the_action_first(primary, compiled, switch_and_address):
    """table_modify validates the action (validate_action, construct_action_entry, "'action'
    field must be set") before it looks the entry up: a bad or absent action is INVALID_ARGUMENT
    even when no entry has the key; a good one is NOT_FOUND. A one-shot set built for a
    missing entry is released."""
    switch, _ = switch_and_address
    info = compiled.p4info
    profile = switch.core.action_profiles["MyIngress.ecmp_selector"]
    one_shot = p4r.TableEntry(
        table_id=pid(info, "tables", "ecmp"), match=[exact(1, bytes([10, 1, 2, 3]))],
        action=p4r.TableAction(action_profile_action_set=p4r.ActionProfileActionSet(action_profile_actions=[
            p4r.ActionProfileAction(action=action(info, "forward", b"\x02").action, weight=1)])))
    assert codes(primary,
                 update("MODIFY", table_entry=dmac_entry(info, b"\x55", action(info, "acl_permit"))),
                 update("MODIFY", table_entry=dmac_entry(info, b"\x55", act=False)),
                 update("MODIFY", table_entry=dmac_entry(info, b"\x55")),
                 update("MODIFY", table_entry=one_shot)) == \
        [Code.INVALID_ARGUMENT, Code.INVALID_ARGUMENT, Code.NOT_FOUND, Code.NOT_FOUND]
    assert profile.members == {} and profile.groups == {}


# ---------------------------------------------------------------- item 8


@pytest.fixture(scope="module")
def small_selector():
    """The test program with @max_group_size(2) on its action selector."""
    from fabriclab.p4 import compile_source

    path = pathlib.Path(__file__).with_name("p4rt_test.p4")
    text = path.read_text()
    declaration = "action_selector(HashAlgorithm.crc16, 16, 16) ecmp_selector;"
    assert text.count(declaration) == 1
    return compile_source(text.replace(declaration, "@max_group_size(2) " + declaration), name="p4rt_small.p4")


def test_one_shot_set_codes(connect, small_selector):
    """ActionProfAccessOneshot::group_create (action_prof_mgr.cpp): an empty action set is
    UNIMPLEMENTED ("No support for empty action profile groups"), one whose weights sum past
    the P4Info's max_group_size RESOURCE_EXHAUSTED (the spec's wording suggests INVALID_ARGUMENT)."""
    ctl = connect(1)
    ctl.set_pipeline(small_selector)
    info = small_selector.p4info

    def one_shot(*weights):
        return p4r.TableEntry(
            table_id=pid(info, "tables", "ecmp"), match=[exact(1, bytes([10, 1, 2, 3]))],
            action=p4r.TableAction(action_profile_action_set=p4r.ActionProfileActionSet(action_profile_actions=[
                p4r.ActionProfileAction(action=action(info, "forward", bytes([w])).action, weight=w)
                for w in weights])))

    assert codes(ctl, update("INSERT", table_entry=one_shot()), update("INSERT", table_entry=one_shot(1, 2)),
                 update("INSERT", table_entry=one_shot(1, 1))) == [Code.UNIMPLEMENTED, Code.RESOURCE_EXHAUSTED, Code.OK]
    assert len(ctl.read(p4r.Entity(table_entry=p4r.TableEntry(table_id=pid(info, "tables", "ecmp"))))) == 1


def test_lpm_entry_with_a_negative_priority_is_accepted(primary, compiled, switch_and_address):
    """construct_match_key refuses only a positive priority for a table without ternary, range
    or optional fields: a negative one is ignored (the entry has priority 0)."""
    switch, _ = switch_and_address
    info = compiled.p4info
    lpm = p4r.TableEntry(table_id=pid(info, "tables", "ipv4_lpm"), priority=-5, action=action(info, "forward", b"\x04"),
                         match=[p4r.FieldMatch(field_id=1, lpm=p4r.FieldMatch.LPM(value=bytes([10, 2, 0, 0]),
                                                                                  prefix_len=16))])
    primary.write(update("INSERT", table_entry=lpm))
    [got] = primary.read(p4r.Entity(table_entry=p4r.TableEntry(table_id=lpm.table_id)))
    assert got.table_entry.priority == 0 and got.table_entry.match == lpm.match
    assert [p for p, _ in switch.receive(1, ipv4_frame(b"\x0a\x02\x03\x04"))] == [4]
    positive = p4r.TableEntry()
    positive.CopyFrom(lpm)
    positive.priority = 5
    assert failure_code(lambda: primary.write(update("INSERT", table_entry=positive))) == Code.INVALID_ARGUMENT
    lpm.ClearField("priority")
    primary.write(update("DELETE", table_entry=lpm))  # the same entry
    assert primary.read(p4r.Entity(table_entry=p4r.TableEntry(table_id=lpm.table_id))) == []


# ---------------------------------------------------------------- item 9


def test_counter_and_meter_writes_need_an_index(primary, compiled, switch_and_address):
    """counter_write / meter_write: "Wildcard write is not supported for indirect counters /
    meters yet", UNIMPLEMENTED; no cell changes. (Wildcard reads stay served, as PI's.)"""
    switch, _ = switch_and_address
    info = compiled.p4info
    counter = pid(info, "counters", "port_counter")
    meter = pid(info, "meters", "port_meter")
    switch.receive(3, frame())
    assert codes(primary,
                 update("MODIFY", counter_entry=p4r.CounterEntry(counter_id=counter)),
                 update("DELETE", counter_entry=p4r.CounterEntry(counter_id=counter)),
                 update("MODIFY", meter_entry=p4r.MeterEntry(meter_id=meter, config=p4r.MeterConfig(
                     cir=1, cburst=1, pir=2, pburst=2)))) == [Code.UNIMPLEMENTED] * 3
    assert counter_cell(primary, info, 3).packet_count == 1
    assert all(switch.core.meters["MyIngress.port_meter"].config(i) is None for i in range(16))
    assert len(primary.read(p4r.Entity(counter_entry=p4r.CounterEntry(counter_id=counter)))) == 64
