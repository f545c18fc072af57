"""Temporary: renamed fabriclab.net.p4node; experiments/adaptive_routing imports it from here
until 12:20 UTC (issue 12)."""

from fabriclab.net.p4node import *  # noqa: F401,F403
from fabriclab.net.p4node import BMV2_BINARY, port_is_free, target_command  # noqa: F401
