"""Port status, event-driven: the switch's stream message, the follower that turns it into
link events (no polling), and the controller's reaction (liveness masks, then regroup)."""

import queue
import threading

from controller.link_failure import LinkEvent, PortStatusFollower, controller_handler, switch_ports
from fabriclab.switch.p4runtime import port_status
from finsy.proto import p4r
from topologies.builders import leaf_spine

TOPO = leaf_spine(2, 2, 2)


class FakeClient:
    def __init__(self) -> None:
        self.stream_messages: queue.Queue = queue.Queue()


def test_switch_ports_are_the_fabric_links_only():
    ports = switch_ports(TOPO)
    assert len(ports) == 8  # 4 links, both ends
    assert all(not name.startswith("h") for name, _ in ports)


def test_port_status_message_round_trip():
    assert port_status.parse(port_status.notification(3, False)) == (3, False)
    assert port_status.parse(port_status.notification(300, True)) == (300, True)
    assert port_status.parse(p4r.StreamMessageResponse(packet=p4r.PacketIn(payload=b"x"))) is None


def test_follower_reacts_to_stream_events_and_survives_handler_errors():
    clients = {"l1": FakeClient(), "s1": FakeClient()}
    uplink = next(p for sw, p in switch_ports(TOPO) if sw == "l1")
    seen, fired = [], threading.Event()

    def handler(event):
        seen.append(event)
        if len(seen) == 2:
            fired.set()
        raise RuntimeError("switch unreachable")

    with PortStatusFollower(clients, switch_ports(TOPO), handler) as follower:
        clients["l1"].stream_messages.put(p4r.StreamMessageResponse(packet=p4r.PacketIn()))
        clients["l1"].stream_messages.put(port_status.notification(1, False))  # a host port
        clients["l1"].stream_messages.put(port_status.notification(uplink, False))
        clients["l1"].stream_messages.put(port_status.notification(uplink, True))
        assert fired.wait(10)
    assert seen == [LinkEvent("l1", uplink, False), LinkEvent("l1", uplink, True)]
    assert "switch unreachable" in follower.errors[0] and len(follower.events) == 2


def test_controller_handler_masks_then_regroups(fabric):
    """A port-down event: every switch's liveness mask has both ends of the link, and the
    groups lose the port; port-up puts both back."""
    ctl, switches = fabric
    port = next(p for sw, p in switch_ports(TOPO) if sw == "l1")
    link = TOPO.ports("l1")[port]
    peer, peer_port = (link.b, link.b_port) if link.a == "l1" else (link.a, link.a_port)
    handle = controller_handler(ctl)

    def mask(switch: str) -> int:
        c = ctl.clients[switch]
        table = c.index.id("tables", "FabricIngress.liveness.port_liveness")
        entry = p4r.Entity(table_entry=p4r.TableEntry(table_id=table, is_default_action=True))
        return int.from_bytes(c.read(entry)[0].table_entry.action.action.params[0].value, "big")

    changed = handle(LinkEvent("l1", port, False))
    assert "l1" in changed
    assert mask("l1") == 1 << port and mask(peer) == 1 << peer_port and mask("l2") == 0
    assert all(port not in g.ports for g in ctl.plans["l1"].groups.values() if len(g.ports) > 1)
    handle(LinkEvent("l1", port, True))
    assert mask("l1") == 0 and mask(peer) == 0
    assert any(port in g.ports for g in ctl.plans["l1"].groups.values())


def test_a_dead_switch_does_not_stop_the_others_reconverging(fabric):
    """s1 was killed (`ctl fail switch`): its neighbours report their ports; the handler
    marks s1 unreachable and still writes masks and groups on the live switches."""
    from fabriclab.errors import FabricError

    ctl, _ = fabric

    class Dead:
        def table_entry(self, entry):
            return p4r.Entity(table_entry=p4r.TableEntry())

        def write(self, *_):
            raise FabricError("127.0.0.1:1: Write failed: UNAVAILABLE")

    ctl.clients = {"s1": Dead(), **{n: c for n, c in ctl.clients.items() if n != "s1"}}
    handle = controller_handler(ctl)
    port = next(p for p, peer, _, _ in TOPO.neighbors("l1") if peer == "s1")
    assert "l1" in handle(LinkEvent("l1", port, False))
    assert ctl.unreachable == {"s1"}
    assert all(port not in g.ports for g in ctl.plans["l1"].groups.values() if len(g.ports) > 1)
