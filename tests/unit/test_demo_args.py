"""`fabriclab demo` hands `fabriclab run` what its own parser gives for `run HEADLINE
--quick`, so an option `run` gains later can never be missing (it once was: the demo
stopped with an AttributeError). The demo itself runs in tests/integration/test_demo.py."""

from pathlib import Path

from fabriclab.demo import HEADLINE, run_arguments


def test_demo_arguments_are_fabriclab_runs_defaults():
    args = run_arguments(None)
    assert (args.experiment, args.scale, args.mode, args.target, args.seeds, args.out) == (
        HEADLINE, "quick", "emulate", None, None, None)
    assert (args.workers, args.cluster, args.emulate_on_cluster) == (None, None, False)
    assert run_arguments(Path("/tmp/somewhere")).out == Path("/tmp/somewhere")
