"""fabriclab: a packet-level lab for AI data-center networks."""

import os

# gRPC's fork handlers restart its poller in a forked child; a child that then closes its
# descriptors before exec (subprocess's close_fds) dies on epoll_wait EBADF (SIGABRT) before
# it runs anything: a switch or host this process starts would fail at random (grpcio >= 1.81,
# grpc/grpc#43055; a switch of a fresh-clone run died so). fabriclab never uses gRPC in a
# forked child, so every process that imports fabriclab turns them off before grpc loads.
os.environ.setdefault("GRPC_ENABLE_FORK_SUPPORT", "false")

__version__ = "0.1.0"
