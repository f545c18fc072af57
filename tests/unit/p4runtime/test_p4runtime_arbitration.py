"""Arbitration state machine: primaries, advisories and stream-ending errors (spec 5)."""

import pytest
from finsy.proto import U128, p4r

from fabriclab.switch.p4runtime.arbitration import Arbitration
from fabriclab.switch.p4runtime.status import (
    ALREADY_EXISTS,
    FAILED_PRECONDITION,
    INVALID_ARGUMENT,
    NOT_FOUND,
    OK,
    P4RuntimeError,
)


def update(election_id=None, device_id=1, role=""):
    msg = p4r.MasterArbitrationUpdate(device_id=device_id)
    if election_id is not None:
        msg.election_id.CopyFrom(U128.encode(election_id))
    if role:
        msg.role.name = role
    return msg


def codes(advisories):
    return {stream: (msg.status.code, U128.decode(msg.election_id)) for stream, msg in advisories}


def test_first_controller_is_primary():
    arb = Arbitration(1)
    assert codes(arb.update("a", update(5))) == {"a": (OK, 5)}
    assert arb.primary("") == "a"


def test_lower_id_joins_as_backup_and_only_it_is_told():
    arb = Arbitration(1)
    arb.update("a", update(5))
    assert codes(arb.update("b", update(3))) == {"b": (ALREADY_EXISTS, 5)}


def test_higher_id_takes_over_and_everyone_is_told():
    arb = Arbitration(1)
    arb.update("a", update(5))
    assert codes(arb.update("b", update(9))) == {"a": (ALREADY_EXISTS, 9), "b": (OK, 9)}
    assert arb.primary("") == "b"


def test_primary_close_leaves_no_primary_and_backups_learn_the_highest_id():
    """Spec 5.4: backups are not promoted; all are told NOT_FOUND with the highest id seen."""
    arb = Arbitration(1)
    arb.update("a", update(5))
    arb.update("b", update(9))
    arb.update("c", update(1))
    assert codes(arb.remove("b")) == {"a": (NOT_FOUND, 9), "c": (NOT_FOUND, 9)}
    assert arb.primary("") is None and arb.primary_election_id("") is None
    assert arb.remove("c") == []  # a backup leaving changes nothing


def test_resent_lower_id_stays_backup_until_an_id_at_least_the_highest():
    arb = Arbitration(1)
    arb.update("a", update(5))
    arb.update("b", update(9))
    arb.remove("b")
    assert codes(arb.update("a", update(5))) == {"a": (NOT_FOUND, 9)}  # the failover case
    assert codes(arb.update("a", update(9))) == {"a": (OK, 9)}  # equal to the highest: primary


def test_primary_downgrading_itself_tells_everyone():
    arb = Arbitration(1)
    arb.update("a", update(9))
    arb.update("b", update(4))
    assert codes(arb.update("a", update(2))) == {"a": (NOT_FOUND, 9), "b": (NOT_FOUND, 9)}
    assert arb.primary("") is None


def test_election_id_unset_until_someone_was_primary():
    arb = Arbitration(1)
    (stream, msg), = arb.update("a", update(None))
    assert msg.status.code == NOT_FOUND and not msg.HasField("election_id")


def test_role_change_on_a_stream_is_failed_precondition():
    arb = Arbitration(1)
    arb.update("a", update(5))
    with pytest.raises(P4RuntimeError) as err:
        arb.update("a", update(5, role="sdn"))
    assert err.value.code == FAILED_PRECONDITION


def test_an_empty_role_starts_afresh():
    """Documented choice: once every stream of a role closed, a lower id may be primary again."""
    arb = Arbitration(1)
    arb.update("a", update(9))
    arb.remove("a")
    assert codes(arb.update("b", update(1))) == {"b": (OK, 1)}


def test_no_primary_without_election_id():
    arb = Arbitration(1)
    msgs = arb.update("a", update(None))
    assert msgs[0][1].status.code == NOT_FOUND
    assert arb.primary("") is None


def test_roles_are_arbitrated_separately():
    arb = Arbitration(1)
    arb.update("a", update(5, role="sdn"))
    assert codes(arb.update("b", update(1))) == {"b": (OK, 1)}
    assert arb.primary("sdn") == "a"


@pytest.mark.parametrize(
    "first, second, code",
    [
        (update(5), update(5), INVALID_ARGUMENT),  # same election id, other stream
        (update(5), update(6, device_id=2), NOT_FOUND),  # unknown device on a new stream
    ],
)
def test_stream_ending_errors(first, second, code):
    arb = Arbitration(1)
    arb.update("a", first)
    with pytest.raises(P4RuntimeError) as err:
        arb.update("b", second)
    assert err.value.code == code


def test_device_change_on_a_stream_is_failed_precondition():
    arb = Arbitration(1)
    arb.update("a", update(5))
    with pytest.raises(P4RuntimeError) as err:
        arb.update("a", update(5, device_id=7))
    assert err.value.code == FAILED_PRECONDITION
