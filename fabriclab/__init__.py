"""fabriclab: a packet-level lab for AI data-center networks."""

__version__ = "0.1.0"
