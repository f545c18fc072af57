"""Link state transitions and the polling monitor (with an injected state source)."""

import threading

from controller.link_failure import LinkEvent, LinkMonitor, LinkWatcher, switch_ports, sysfs_state
from topologies.builders import leaf_spine


def test_watcher_reports_transitions_only():
    w = LinkWatcher()
    assert w.observe({("l1", 3): True, ("l1", 4): True}) == []
    assert w.observe({("l1", 3): False, ("l1", 4): True}) == [LinkEvent("l1", 3, False)]
    assert w.observe({("l1", 3): False, ("l1", 4): True}) == []
    assert w.observe({("l1", 3): True, ("l1", 4): True}) == [LinkEvent("l1", 3, True)]
    assert LinkWatcher().observe({("s1", 1): False}) == [LinkEvent("s1", 1, False)]


def test_switch_ports_are_the_fabric_links_only():
    ports = switch_ports(leaf_spine(2, 2, 2))
    assert len(ports) == 8  # 4 links, both ends
    assert all(not name.startswith("h") for name, _ in ports)


def test_monitor_calls_back_and_survives_handler_errors():
    state = {("l1", 3): True}
    seen, fired = [], threading.Event()

    def handler(event):
        seen.append(event)
        fired.set()
        raise RuntimeError("switch unreachable")

    with LinkMonitor(state, handler, read_state=lambda sw, p: state[(sw, p)], interval=0.01) as m:
        state[("l1", 3)] = False
        assert fired.wait(5)
    assert seen == [LinkEvent("l1", 3, False)]
    assert "switch unreachable" in m.errors[0]


def test_sysfs_state_of_missing_interface_is_down(tmp_path):
    (tmp_path / "flvx-1").mkdir()
    (tmp_path / "flvx-1" / "operstate").write_text("up\n")
    assert sysfs_state("flvx-1", tmp_path)
    assert not sysfs_state("flvnone-1", tmp_path)
