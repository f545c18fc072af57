"""Temporary: the run names moved to fabriclab.paths; roce/{cli,netns} still import them from here
until they move to fabriclab.launch (issue 12)."""

from fabriclab.paths import ENV, RunDir, run_of  # noqa: F401
