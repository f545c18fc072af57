"""Hierarchical collectives: exact results, which peers each phase talks to, bad specs."""

import pytest

import test_roce_collectives
from fabriclab.errors import FabricError
from fabriclab.roce.collectives import Collective, CollectiveSpec, count_wrong
from test_roce_collectives import exchange


class Recorded(Collective):
    """A Collective that keeps every put it makes."""

    def start(self):
        self.puts = list(super().start())
        return self.puts

    def on_data(self, src, tag, data):
        out = super().on_data(src, tag, data)
        self.puts += out
        return out


@pytest.mark.parametrize("n,local", [(4, 2), (8, 4), (8, 2), (6, 3), (4, 1), (4, 4), (16, 8)])
@pytest.mark.parametrize("kind", ["allreduce", "allgather", "alltoall"])
@pytest.mark.parametrize("dtype,op", [("float", "sum"), ("int", "max"), ("int", "prod")])
def test_hierarchical_schedules_compute_the_exact_result(n, local, kind, dtype, op):
    spec = CollectiveSpec(kind, n, 4 * 24 * n + 8, dtype, op, algo="hier", local=local)
    for seed in range(3):
        ranks = exchange(spec, seed)
        for r, c in enumerate(ranks):
            assert c.done
            assert count_wrong(spec, r, c.output()) == 0


def test_hierarchical_allreduce_sends_one_local_chunk_across_domains(monkeypatch):
    """8 ranks in 2 domains of 4: rank 1 sends 3+3 domain steps of count/4 elements to rank 2
    and 1+1 rail steps of count/8 to rank 5 (its rail peer), nothing to anyone else."""
    spec = CollectiveSpec("allreduce", 8, 4 * 800, "int", algo="hier", local=4)
    monkeypatch.setattr(test_roce_collectives, "Collective", Recorded)
    ranks = exchange(spec, 0)
    assert all(c.done for c in ranks)
    sizes = {dst: sorted({len(p.data) for p in ranks[1].puts if p.dst == dst}) for dst in (2, 5)}
    assert sorted({p.dst for p in ranks[1].puts}) == [2, 5]
    assert [p.dst for p in ranks[1].puts].count(2) == 6 and [p.dst for p in ranks[1].puts].count(5) == 2
    assert sizes == {2: [4 * 200], 5: [4 * 100]}
    assert spec.max_message == 4 * 200


def test_hierarchical_allgather_crosses_domains_once_per_part(monkeypatch):
    """8 ranks in 2 domains of 4: rank 1 sends its own part to rank 5 (its rail peer) once,
    then 3 steps of two parts (its rail's) to rank 2."""
    spec = CollectiveSpec("allgather", 8, 4 * 800, "int", algo="hier", local=4)
    monkeypatch.setattr(test_roce_collectives, "Collective", Recorded)
    ranks = exchange(spec, 1)
    assert all(c.done for c in ranks)
    assert [(p.dst, len(p.data)) for p in ranks[1].puts] == [(5, 400)] + [(2, 800)] * 3
    assert spec.max_message == 800


def test_domain_of_one_is_the_flat_ring():
    flat = CollectiveSpec("allreduce", 4, 4 * 400)
    hier = CollectiveSpec("allreduce", 4, 4 * 400, algo="hier", local=1)
    assert [p.dst for p in Collective(flat, 2).start()] == [p.dst for p in Collective(hier, 2).start()]
    assert len(Collective(hier, 2)._steps) == 2 * 3


def test_bad_hierarchical_specs_are_clear_errors():
    for kwargs, msg in [({"algo": "tree"}, "unknown algorithm"), ({"local": 3}, "does not divide"),
                        ({"local": 0}, "does not divide"), ({"kind": "gather"}, "hier runs"),
                        ({"kind": "reducescatter"}, "hier runs")]:
        args = {"kind": "allreduce", "nranks": 4, "size": 1024, "algo": "hier", "local": 2} | kwargs
        with pytest.raises(FabricError, match=msg):
            CollectiveSpec(**args)


def test_rank_reaches_its_domain_over_the_scale_up_nic():
    from fabriclab.roce.nic import RoceNic
    from fabriclab.roce.rank import Rank, ScaleUpNic
    from fabriclab.roce.runs import RunOptions

    opts = RunOptions()
    spec = CollectiveSpec("allreduce", 4, 4 * 400, algo="hier", local=2)
    out = RoceNic(opts.nic_config("10.0.1.1"))
    up = RoceNic(opts.nic_config("10.0.9.1"))
    addrs = [(f"10.0.{i + 1}.1", 4791) for i in range(4)]
    rank = Rank(out, 0, addrs, spec, 1, 0, ScaleUpNic(up, {1: ("10.0.9.2", 4791)}))
    assert rank.nic_for(1) is up and rank.nic_for(2) is out and rank.nic_for(3) is out
    rank.service(0)  # the first put goes to rank 1, inside the domain: on the scale-up NIC
    assert [d.dst_ip for d in up.poll(0)] and not out.poll(0)
    with pytest.raises(FabricError, match="must be other ranks"):
        Rank(RoceNic(opts.nic_config("10.0.1.1")), 0, addrs, spec, 1, 0,
             ScaleUpNic(RoceNic(opts.nic_config("10.0.9.1")), {0: ("10.0.9.1", 4791)}))
