"""``fabriclab switch-cli``: change a running switch's queues, like BMv2's simple_switch_CLI.

One command from the arguments (``fabriclab switch-cli --device-id 1 set_queue_rate 100 2``),
or one per line from stdin when none is given, as ``echo ... | simple_switch_CLI`` scripts do.
"""

from __future__ import annotations

import argparse
import json
import shlex
import sys

from fabriclab.errors import FabricError
from fabriclab.switch import admin


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--device-id", type=int, default=0,
                        help="the switch's --device-id (selects its default admin socket)")
    parser.add_argument("--socket", metavar="PATH", help="the switch's --admin-socket")
    parser.add_argument("command", nargs=argparse.REMAINDER,
                        help="; ".join(admin.USAGE.values()))


def _show(result: object) -> None:
    print(result if isinstance(result, str) else json.dumps(result, indent=2))


def main(args: argparse.Namespace) -> int:
    path = args.socket or admin.default_socket_path(args.device_id)
    if args.command:
        _show(admin.request(path, args.command))
        return 0
    failed = False
    for line in sys.stdin:
        words = shlex.split(line, comments=True)
        if not words:
            continue
        try:
            _show(admin.request(path, words))
        except FabricError as err:
            print(f"error: {err}", file=sys.stderr)
            failed = True
    return 1 if failed else 0
