"""controller.route_installer: which base-route installer a program gets (no switch needed)."""

from pathlib import Path

import pytest
from finsy.proto import p4i

from controller import basic_routing, fabric_base_routes
from controller.route_installer import RouteInstaller, installer_for
from fabriclab.errors import FabricError
from fabriclab.switch.artifact import ForwardingConfig


def program(tables, actions) -> ForwardingConfig:
    info = p4i.P4Info(tables=[p4i.Table(preamble=p4i.Preamble(name=t)) for t in tables],
                      actions=[p4i.Action(preamble=p4i.Preamble(name=a)) for a in actions])
    return ForwardingConfig(Path("prog.p4"), info, b"")


def test_the_installer_follows_the_program_tables():
    assert installer_for(program([basic_routing.TABLE], [basic_routing.ACTION])) is basic_routing
    assert installer_for(program([fabric_base_routes.TABLE], [])) is fabric_base_routes


def test_an_unknown_program_is_refused_with_the_known_tables():
    with pytest.raises(FabricError, match="no route installer knows the tables of prog.p4 "
                                          r"\(known: basic.p4's MyIngress.ipv4_lpm"):
        RouteInstaller().check(program(["MyIngress.other"], []))
