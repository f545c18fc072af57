"""In-network aggregation jobs on fabric.p4 (docs/aggregation.md): which switches aggregate
for a job (the tree), which of their slots and which multicast group it uses, and the table
and PRE entries that say so.

`AggregationManager` is pure bookkeeping over the topology graph (slot budgets, group ids,
tags); `job_entries` turns a job into table entries; `install_job`/`remove_job` write them
through one `P4RuntimeClient` per switch. Nothing here writes registers: BMv2 serves none
over P4Runtime, and fabric.p4 resets a slot cell by itself when a newer chunk, or a chunk
of another job tag, arrives.
"""

from __future__ import annotations

import ipaddress
import secrets
from collections import deque
from dataclasses import dataclass, field
from typing import Iterable, Mapping

from finsy.proto import p4r

from controller.client import Entry, P4RuntimeClient, decode
from fabriclab.errors import FabricError
from topologies.addressing import Addressing
from topologies.graph import Topology

SLOTS_PER_SWITCH = 512       # AGG_CELLS / 2 shadow sets
MAX_FAN_IN = 32              # the contributor bitmap is bit<32>
MAX_JOB_ID = 0xFFFF
GROUP_BASE = 0x1000          # multicast group ids of jobs: GROUP_BASE, GROUP_BASE + 1, ...
SERVICE_IP = "10.255.255.1"  # source of everything the switches emit for a job

IG, EG = "FabricIngress.aggregation", "FabricEgress.aggregation"


@dataclass(frozen=True)
class SwitchRole:
    """One switch's part of a job's tree."""

    switch: str
    slot_base: int
    fan_in: int
    is_root: bool
    parent_port: int                        # toward the parent (0 at the root)
    child_id: int                           # our contributor index at the parent
    children: tuple[tuple[int, int], ...]   # (port, contributor index), by port
    hosts: tuple[tuple[int, str], ...]      # (port, rank address) of local ranks

    @property
    def down_ports(self) -> list[int]:
        """The multicast group's ports: every child, switch or rank."""
        return [port for port, _ in self.children]


@dataclass(frozen=True)
class AggJob:
    """An installed (or planned) job: what hosts and switches need to know."""

    job_id: int
    tag: int
    group: int
    pool_size: int
    service_ip: str
    ranks: tuple[str, ...]
    rank_ips: tuple[str, ...]
    root: str
    roles: Mapping[str, SwitchRole]

    @property
    def world(self) -> int:
        return len(self.ranks)

    def rank_ip(self, rank: int) -> str:
        if not 0 <= rank < self.world:
            raise FabricError(f"rank {rank} is outside aggregation job {self.job_id} "
                              f"(ranks 0..{self.world - 1})")
        return self.rank_ips[rank]

    def describe(self) -> str:
        inner = ", ".join(f"{r.switch}(fan-in {r.fan_in}, slots {r.slot_base}.."
                          f"{r.slot_base + self.pool_size - 1})" for r in self.roles.values())
        return (f"job {self.job_id}: {self.world} ranks, root {self.root}, group {self.group}, "
                f"{self.pool_size} slots: {inner}")


@dataclass(frozen=True)
class InstalledRole:
    """One switch's agg_jobs entry as read back from the switch: what `ctl agg list`
    shows, and what a manager in a new process must not hand out again."""

    switch: str
    job_id: int
    tag: int
    slot_base: int
    pool_size: int
    fan_in: int
    is_root: bool
    group: int


@dataclass(frozen=True)
class _Tree:
    root: str
    parent: dict[str, tuple[int, str, int]]   # switch -> (its port up, parent, parent's port)
    rank_ports: dict[str, list[tuple[int, int]]]   # switch -> [(port, rank)]

    @property
    def members(self) -> list[str]:
        return [self.root, *self.parent]

    def children(self) -> dict[str, list[tuple[int, str | None]]]:
        """Per tree switch: (port, child switch or None for a rank), by port."""
        kids: dict[str, list[tuple[int, str | None]]] = {
            s: [(p, None) for p, _ in self.rank_ports.get(s, [])] for s in self.members}
        for child, (_, parent, parent_port) in self.parent.items():
            kids[parent].append((parent_port, child))
        return {s: sorted(k, key=lambda pc: pc[0]) for s, k in kids.items()}


def _switch_distances(topo: Topology, start: str) -> dict[str, int]:
    dist = {start: 0}
    todo = deque([start])
    while todo:
        node = todo.popleft()
        for _, peer, _, _ in topo.neighbors(node):
            if topo.nodes[peer].is_switch and peer not in dist:
                dist[peer] = dist[node] + 1
                todo.append(peer)
    return dist


def choose_tree(topo: Topology, ranks: list[str], free: Mapping[str, int]) -> _Tree:
    """The root is the switch closest to every rank's leaf (the most central; ties: the one
    with the most free slots, then topology order), so a leaf-spine job aggregates at a
    spine and a one-leaf job at its leaf. The tree is the root's BFS tree, cut to the
    switches on a leaf's path."""
    addressing = Addressing(topo)
    rank_ports: dict[str, list[tuple[int, int]]] = {}
    for rank, host in enumerate(ranks):
        node = topo.nodes.get(host)
        if node is None or node.is_switch:
            raise FabricError(f"aggregation rank {rank}: {host!r} is not a host of "
                              f"topology {topo.name!r}")
        nic = addressing.host_nics(host)[0]
        rank_ports.setdefault(nic.switch, []).append((nic.switch_port, rank))
    leaves = list(rank_ports)
    dists = {leaf: _switch_distances(topo, leaf) for leaf in leaves}
    order = {name: i for i, name in enumerate(topo.nodes)}
    candidates = [s.name for s in topo.switches() if all(s.name in d for d in dists.values())]
    if not candidates:
        raise FabricError("aggregation ranks sit on switches that are not connected")
    root = min(candidates, key=lambda s: (max(d[s] for d in dists.values()),
                                          sum(d[s] for d in dists.values()),
                                          -free.get(s, 0), order[s]))
    bfs: dict[str, tuple[int, str, int]] = {}
    seen, todo = {root}, deque([root])
    while todo:
        node = todo.popleft()
        for port, peer, peer_port, _ in topo.neighbors(node):
            if topo.nodes[peer].is_switch and peer not in seen:
                seen.add(peer)
                bfs[peer] = (peer_port, node, port)
                todo.append(peer)
    parent: dict[str, tuple[int, str, int]] = {}
    for leaf in leaves:
        node = leaf
        while node != root and node not in parent:
            parent[node] = bfs[node]
            node = bfs[node][1]
    return _Tree(root, parent, rank_ports)


@dataclass
class AggregationManager:
    """Allocates slot ranges (per switch, first fit), multicast groups and tags per job.
    `reserved` holds jobs installed by another process (`read_installed`): their slots,
    groups, ids and tags stay taken."""

    topo: Topology
    slots_per_switch: int = SLOTS_PER_SWITCH
    service_ip: str = SERVICE_IP
    first_tag: int = 1
    reserved: list[InstalledRole] = field(default_factory=list)
    jobs: dict[int, AggJob] = field(default_factory=dict)

    def __post_init__(self) -> None:
        taken = {r.tag for r in self.reserved}
        self._next_tag = self.first_tag
        while self._next_tag in taken:
            self._next_tag = (self._next_tag + 1) & 0xFFFFFFFF or 1

    def used(self, switch: str) -> list[tuple[int, int]]:
        """(slot base, size) ranges taken on `switch`, sorted."""
        return sorted([(job.roles[switch].slot_base, job.pool_size)
                       for job in self.jobs.values() if switch in job.roles]
                      + [(r.slot_base, r.pool_size) for r in self.reserved if r.switch == switch])

    def free_slots(self, switch: str) -> int:
        return self.slots_per_switch - sum(size for _, size in self.used(switch))

    def _allocate(self, switch: str, size: int, job_id: int) -> int:
        start = 0
        for base, used in self.used(switch):
            if base - start >= size:
                return start
            start = base + used
        if self.slots_per_switch - start >= size:
            return start
        raise FabricError(f"switch {switch}: aggregation slot budget exhausted: job {job_id} "
                          f"needs {size} slots, {self.free_slots(switch)} of "
                          f"{self.slots_per_switch} free")

    def create(self, job_id: int, ranks: Iterable[str], pool_size: int = 64) -> AggJob:
        """Plan a job over `ranks` (host names, rank order); raises FabricError on bad input
        or when a switch of its tree has no room."""
        ranks = list(ranks)
        if not 1 <= job_id <= MAX_JOB_ID:
            raise FabricError(f"aggregation job id must be 1..{MAX_JOB_ID}, got {job_id}")
        if job_id in self.jobs or any(r.job_id == job_id for r in self.reserved):
            raise FabricError(f"aggregation job {job_id} exists already")
        if len(ranks) < 1:
            raise FabricError("an aggregation job needs at least one rank")
        if len(set(ranks)) != len(ranks):
            raise FabricError(f"aggregation job {job_id}: a host appears twice in the ranks")
        if not 1 <= pool_size <= self.slots_per_switch:
            raise FabricError(f"aggregation pool size must be 1..{self.slots_per_switch} "
                              f"slots, got {pool_size}")
        switches = [s.name for s in self.topo.switches()]
        tree = choose_tree(self.topo, ranks, {s: self.free_slots(s) for s in switches})
        ordered = tree.children()
        for s, kids in ordered.items():
            if len(kids) > MAX_FAN_IN:
                raise FabricError(f"switch {s}: aggregation fan-in {len(kids)} is above "
                                  f"{MAX_FAN_IN} (the contributor bitmap)")
        index_of = {child: i for kids in ordered.values()
                    for i, (_, child) in enumerate(kids) if child is not None}
        addressing = Addressing(self.topo)
        rank_ips = tuple(str(addressing.ip(h)) for h in ranks)
        port_rank = {(s, p): r for s, ports in tree.rank_ports.items() for p, r in ports}
        roles = {}
        for s in tree.members:
            up_port = tree.parent[s][0] if s in tree.parent else 0
            roles[s] = SwitchRole(
                switch=s, slot_base=self._allocate(s, pool_size, job_id),
                fan_in=len(ordered[s]), is_root=s == tree.root, parent_port=up_port,
                child_id=index_of.get(s, 0),
                children=tuple((p, i) for i, (p, _) in enumerate(ordered[s])),
                hosts=tuple((p, rank_ips[port_rank[(s, p)]])
                            for p, child in ordered[s] if child is None))
        taken = {job.group for job in self.jobs.values()} | {r.group for r in self.reserved}
        group = next(g for g in range(GROUP_BASE, GROUP_BASE + MAX_JOB_ID + 1) if g not in taken)
        job = AggJob(job_id, self._next_tag, group, pool_size, self.service_ip, tuple(ranks),
                     rank_ips, tree.root, roles)
        self._next_tag = (self._next_tag + 1) & 0xFFFFFFFF or 1
        self.jobs[job_id] = job
        return job

    def delete(self, job_id: int) -> AggJob:
        try:
            return self.jobs.pop(job_id)
        except KeyError:
            known = ", ".join(map(str, sorted(self.jobs))) or "none"
            raise FabricError(f"no aggregation job {job_id} (jobs: {known})") from None


def job_entries(job: AggJob) -> dict[str, list[Entry]]:
    """Per switch: the agg_jobs, agg_children and agg_hosts entries of `job`."""
    service = int(ipaddress.IPv4Address(job.service_ip))
    out: dict[str, list[Entry]] = {}
    for name, role in job.roles.items():
        entries = [Entry(f"{IG}.agg_jobs", {"hdr.agg.jobId": job.job_id}, f"{IG}.agg_job", {
            "tag": job.tag, "slot_base": role.slot_base, "pool_size": job.pool_size,
            "fan_in": role.fan_in, "is_root": int(role.is_root),
            "parent_port": role.parent_port, "child_id": role.child_id, "group": job.group,
            "service_ip": service})]
        entries += [Entry(f"{IG}.agg_children",
                          {"hdr.agg.jobId": job.job_id, "standard_metadata.ingress_port": port},
                          f"{IG}.agg_child", {"index": index}) for port, index in role.children]
        entries += [Entry(f"{EG}.agg_hosts",
                          {"hdr.agg.jobId": job.job_id, "standard_metadata.egress_port": port},
                          f"{EG}.agg_to_host", {"ip": ip}) for port, ip in role.hosts]
        out[name] = entries
    return out


def _group_entity(c: P4RuntimeClient, job: AggJob, role: SwitchRole | None) -> p4r.Entity:
    ports = role.down_ports if role is not None else []
    return c.multicast_group(job.group, [(port, 1) for port in ports])


def _check_clients(clients: Mapping[str, P4RuntimeClient], job: AggJob) -> None:
    missing = [s for s in job.roles if s not in clients]
    if missing:
        raise FabricError(f"aggregation job {job.job_id}: no P4Runtime connection to "
                          f"{', '.join(missing)}")


def install_job(clients: Mapping[str, P4RuntimeClient], job: AggJob) -> None:
    """Write the job's multicast groups and table entries to every switch of its tree."""
    _check_clients(clients, job)
    for name, entries in job_entries(job).items():
        c = clients[name]
        c.write([_group_entity(c, job, job.roles[name])])
        c.insert(entries)


def remove_job(clients: Mapping[str, P4RuntimeClient], job: AggJob) -> None:
    """Delete what install_job wrote (slots need no clearing: the next job's tag differs)."""
    _check_clients(clients, job)
    for name, entries in job_entries(job).items():
        c = clients[name]
        c.write([c.table_entry(e) for e in entries], "DELETE")
        c.write([_group_entity(c, job, None)], "DELETE")


def _job_of(entry: p4r.TableEntry) -> int:
    """The jobId key (every aggregation table has it first)."""
    return decode(entry.match[0].exact.value)


def read_installed(clients: Mapping[str, P4RuntimeClient]) -> list[InstalledRole]:
    """Every switch's agg_jobs entries, by switch then job."""
    out = []
    for name, c in clients.items():
        names = {p.id: p.name for p in c._p4().get("actions", f"{IG}.agg_job").params}
        for te in c.read_table(f"{IG}.agg_jobs"):
            if te.is_default_action or not te.match:
                continue
            p = {names[x.param_id]: decode(x.value) for x in te.action.action.params}
            out.append(InstalledRole(name, _job_of(te), p["tag"], p["slot_base"],
                                     p["pool_size"], p["fan_in"], bool(p["is_root"]), p["group"]))
    return sorted(out, key=lambda r: (r.job_id, r.switch))


def remove_installed(clients: Mapping[str, P4RuntimeClient], job_id: int) -> list[str]:
    """Delete job `job_id` as found on the switches (a process that did not create it);
    returns the switches it was on."""
    roles = [r for r in read_installed(clients) if r.job_id == job_id]
    if not roles:
        known = sorted({r.job_id for r in read_installed(clients)})
        raise FabricError(f"no aggregation job {job_id} on the switches "
                          f"(jobs: {', '.join(map(str, known)) or 'none'})")
    for role in roles:
        c = clients[role.switch]
        stale = [p4r.Entity(table_entry=te)
                 for table in (f"{IG}.agg_children", f"{EG}.agg_hosts", f"{IG}.agg_jobs")
                 for te in c.read_table(table)
                 if not te.is_default_action and te.match and _job_of(te) == job_id]
        c.write(stale, "DELETE")
        c.write([c.multicast_group(role.group, [])], "DELETE")
    return [r.switch for r in roles]


def create_installed(clients: Mapping[str, P4RuntimeClient], topo: Topology, ranks: Iterable[str],
                     job_id: int | None = None, pool_size: int = 64) -> AggJob:
    """Plan a job around the jobs the switches already hold (another process may have made
    them), install it and return it; `job_id` None takes the smallest free id."""
    installed = read_installed(clients)
    if job_id is None:
        taken = {r.job_id for r in installed}
        job_id = next(j for j in range(1, MAX_JOB_ID + 2) if j not in taken)
    # A fresh random tag: cells keep the last job's tag and seqs (nothing clears them), so
    # a new job reusing an id with its predecessor's tag would be answered with old sums.
    first_tag = secrets.randbelow(0xFFFFFFFF) + 1
    job = AggregationManager(topo, first_tag=first_tag, reserved=installed).create(
        job_id, ranks, pool_size)
    install_job(clients, job)
    return job


def describe_installed(installed: list[InstalledRole]) -> list[str]:
    """One line per job, as `ctl agg list` prints it."""
    lines = []
    for job_id in sorted({r.job_id for r in installed}):
        roles = [r for r in installed if r.job_id == job_id]
        root = next((r.switch for r in roles if r.is_root), "?")
        inner = ", ".join(f"{r.switch}(fan-in {r.fan_in}, slots {r.slot_base}.."
                          f"{r.slot_base + r.pool_size - 1})" for r in roles)
        lines.append(f"job {job_id}: root {root}, group {roles[0].group}, tag {roles[0].tag}, "
                     f"{roles[0].pool_size} slots: {inner}")
    return lines
