"""DCI distance as a link parameter: 5 us per km, its own rate and a deep border buffer in
bytes, and one-line errors for bad input."""

import pytest

from fabriclab.errors import FabricError
from topologies import builders
from topologies.builders import DCI_FRAME_BYTES, Dci, fibre_delay_us
from topologies.graph import NodeKind


def dci_links(topo):
    return [link for link in topo.links
            if topo.nodes[link.a].kind is NodeKind.BORDER and topo.nodes[link.b].kind is NodeKind.BORDER]


@pytest.mark.parametrize("km,us", [(0, 0), (10, 50), (300, 1500), (1000, 5000)])
def test_fibre_is_5_us_per_km(km, us):
    assert fibre_delay_us(km) == us


def test_multi_site_dci_rate_distance_and_border_buffer():
    topo = builders.multi_site(sites=3, leaves=1, spines=1, hosts_per_leaf=1,
                               dci=Dci.of(400_000, km=300, buffer_bytes=64 << 20))
    links = dci_links(topo)
    assert len(links) == 3  # every pair of sites
    for link in links:
        for d in (link.ab, link.ba):
            assert (d.bw, d.delay_us) == (400_000, 1500)
            assert d.max_queue_size == -(-(64 << 20) // DCI_FRAME_BYTES)
    spine_border = [lk for lk in topo.links if lk not in links
                    and NodeKind.BORDER in (topo.nodes[lk.a].kind, topo.nodes[lk.b].kind)]
    assert all(lk.ab.delay_us == 0 for lk in spine_border)  # distance only on the DCI


def test_scale_up_fabric_takes_the_same_dci():
    topo = builders.scale_up_fabric(accelerators=8, domain=2, sites=2, dci=Dci.of(200_000, km=10))
    assert [(lk.ab.bw, lk.ab.delay_us) for lk in dci_links(topo)] == [(200_000, 50)]


@pytest.mark.parametrize("make,message", [
    (lambda: Dci.of(km=-1), "DCI distance must be >= 0 km"),
    (lambda: Dci.of(bw=0, km=10), "DCI rate"),
    (lambda: Dci(delay_us=-5), "DCI delay"),
    (lambda: Dci(buffer_bytes=100), "border buffer"),
    (lambda: builders.scale_up_fabric(accelerators=8, domain=2, sites=1, dci=Dci.of(km=10)),
     "need at least 2 sites"),
    (lambda: builders.multi_site(sites=1, dci=Dci.of(km=10)), "sites must be >= 2"),
])
def test_bad_dci_input_is_one_line_fabric_error(make, message):
    with pytest.raises(FabricError, match=message) as err:
        make()
    assert "\n" not in str(err.value)
