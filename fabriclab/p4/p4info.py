"""Placeholder replaced below."""
from finsy.proto import p4i
def build_p4info(program):
    return p4i.P4Info()
