"""Spawn functions enter the right network namespace (root): a Mininet host is reached
through its shell's pid with nsenter, with no Python code between fork and exec."""

import os
import subprocess
import sys
from types import SimpleNamespace

import pytest

from fabriclab.launch.placement import in_mininet_host

pytestmark = pytest.mark.root

NETNS_OF_SELF = "import os; print(os.readlink('/proc/self/ns/net'))"


@pytest.fixture
def shell_in_netns():
    """A process standing in for a Mininet host's shell, in a namespace of its own."""
    ns = f"fl-place-{os.getpid()}"
    subprocess.run(["ip", "netns", "add", ns], check=True)
    shell = subprocess.Popen(["ip", "netns", "exec", ns, "sh", "-c", "echo up; exec sleep 60"],
                             stdout=subprocess.PIPE, text=True)
    try:
        assert shell.stdout.readline() == "up\n"  # inside the namespace by now
        yield shell
    finally:
        shell.kill()
        shell.wait()
        shell.stdout.close()
        subprocess.run(["ip", "netns", "del", ns], check=True)


def test_in_mininet_host_runs_in_the_hosts_namespace(shell_in_netns):
    host = SimpleNamespace(pid=shell_in_netns.pid)  # all in_mininet_host needs of a Host
    want = os.readlink(f"/proc/{shell_in_netns.pid}/ns/net")
    assert want != os.readlink("/proc/self/ns/net")
    proc = in_mininet_host(host)([sys.executable, "-c", NETNS_OF_SELF])
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err
    assert out.strip() == want
