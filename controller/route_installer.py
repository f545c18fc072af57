"""The controller `fabriclab net` hands its switches to: push the pipeline, write base routes,
then what the topology declares beyond routes.

`FabricNet(topo, config, controller=RouteInstaller())` works like Mininet's
`Mininet(controller=...)`: the net driver brings switches up and calls `check` (before anything
exists, so an unknown program leaves nothing behind), `start` (once every switch answers) and
`stop`; it never imports the controller. The routes come from the topology graph
(`controller.routes`); which tables to write them into depends on the program: the first of
INSTALLERS whose `supports(p4info)` is true (a module with `install(client, routes)`). A
module that also has `install_declared(topo, clients)` writes, once every switch has its
routes, what the topology declares beyond them (fabric.p4: border roles and tenants, see
controller.fabric_base_routes); a program without one gets routes only, and a topology's
tenants on it are not enforced (said on stderr).
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from types import ModuleType

from controller import basic_routing, fabric_base_routes
from controller.client import P4RuntimeClient
from controller.routes import compute_routes
from fabriclab.errors import FabricError
from fabriclab.switch.artifact import ForwardingConfig
from topologies.addressing import Addressing
from topologies.graph import Topology

INSTALLERS: tuple[ModuleType, ...] = (fabric_base_routes, basic_routing)


def installer_for(program: ForwardingConfig) -> ModuleType:
    """The route installer that knows this program's tables (FabricError if none does)."""
    for module in INSTALLERS:
        if module.supports(program.p4info):
            return module
    raise FabricError(f"no route installer knows the tables of {program.source.name} "
                      f"(known: basic.p4's {basic_routing.TABLE}, fabric.p4's "
                      f"{fabric_base_routes.TABLE})")


@dataclass
class RouteInstaller:
    """One P4Runtime client per switch (kept open: the run's primary controller) that pushes
    the program and its base routes. `clients` stays usable (e.g. by FabricController);
    `declared` says what install_declared wrote. Its election id stays below `fabriclab
    ctl`'s (controller.cli.ELECTION_ID), so ctl is primary while it runs."""

    election_id: int = 1
    clients: dict[str, P4RuntimeClient] = field(default_factory=dict)
    declared: list[str] = field(default_factory=list)

    def check(self, program: ForwardingConfig) -> None:
        installer_for(program)

    def start(self, topo: Topology, addressing: Addressing, addresses: dict[str, str],
              program: ForwardingConfig) -> None:
        """Program every switch; `addresses`: switch -> host:port of its P4Runtime server.
        Device ids are switch indices, which the port MACs derive from too."""
        installer = installer_for(program)
        routes = compute_routes(topo, addressing)
        for switch in topo.switches():
            client = P4RuntimeClient(addresses[switch.name], topo.switch_index(switch.name),
                                     election_id=self.election_id)
            client.connect()
            self.clients[switch.name] = client
            client.set_pipeline(program.p4info, program.device_config)
            installer.install(client, routes[switch.name])
        declared = getattr(installer, "install_declared", None)
        if declared is not None:
            self.declared = declared(topo, self.clients)
        elif topo.tenants:
            print(f"fabriclab: warning: {program.source.name} has no tenant tables: the "
                  f"topology's tenants ({', '.join(topo.tenants)}) are not enforced",
                  file=sys.stderr, flush=True)

    def stop(self) -> None:
        for client in self.clients.values():
            client.close()
        self.clients.clear()
