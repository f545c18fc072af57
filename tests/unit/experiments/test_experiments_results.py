"""Results writing: CSV columns and cells, the run JSON (config, seeds, versions, scale)."""

from __future__ import annotations

import importlib
import json
import platform

import pytest

from experiments.cli import EXPERIMENTS
from experiments.results import (RunParams, read_csv, run_document, run_files, run_id, versions, write_csv,
                                 write_json)
from fabriclab.errors import FabricError


def test_run_id_sorts_by_time_and_names_the_scale():
    a, b = run_id("quick", 1_700_000_000), run_id("quick", 1_700_000_060)
    assert a < b
    assert a.endswith("-quick") and run_id("full", 0) == "19700101-000000-full"


def test_csv_has_every_column_in_first_seen_order_and_empty_missing_cells(tmp_path):
    path = tmp_path / "r.csv"
    write_csv(path, [{"scheme": "ecmp+gbn", "pct": 50.123456789}, {"scheme": "adaptive+ooo", "busbw": 4}])
    rows = read_csv(path)
    assert list(rows[0]) == ["scheme", "pct", "busbw"]
    assert rows[0] == {"scheme": "ecmp+gbn", "pct": "50.1235", "busbw": ""}
    assert rows[1] == {"scheme": "adaptive+ooo", "pct": "", "busbw": "4"}


def test_versions_name_fabriclab_target_python_and_kernel():
    v = versions("builtin")
    assert v["target"] == "builtin"
    assert v["python"] == platform.python_version()
    assert v["kernel"] == platform.release()
    assert v["fabriclab"]


def test_run_document_round_trips_through_json(tmp_path):
    files = run_files(tmp_path / "exp", "r1")
    assert files.csv.parent.is_dir()
    doc = run_document("exp", "r1", "quick", {"seeds": (1, 2), "link_mbps": 5.0}, (1, 2),
                       {"link_rate_mbps": 5.0, "uplink_delay_us": 100}, "builtin", 12.34,
                       {"schemes": []}, files)
    write_json(files.json, doc)
    back = json.loads(files.json.read_text())
    assert back["config"] == {"seeds": [1, 2], "link_mbps": 5.0}
    assert back["seeds"] == [1, 2]
    assert back["scale"]["link_rate_mbps"] == 5.0
    assert back["versions"]["target"] == "builtin"
    assert back["wall_time_s"] == 12.3
    assert back["files"] == {"csv": "r1.csv", "png": "r1.png"}


def test_json_refuses_objects_it_cannot_save(tmp_path):
    with pytest.raises(TypeError):
        write_json(tmp_path / "x.json", {"bad": object()})


@pytest.mark.parametrize("name", sorted(EXPERIMENTS))
@pytest.mark.parametrize("mode", ["sim", "emulate"])
@pytest.mark.parametrize("scale", ["quick", "full"])
def test_every_experiments_params_round_trip_through_a_trial_process_json(name, mode, scale):
    """What a trial process gets (JSON of as_dict, with a trial's own extra keys) gives back
    the same Params: one RunParams for all seven experiments."""
    params = importlib.import_module(f"{EXPERIMENTS[name]}.params")
    p = params.params_for(scale, mode)
    assert isinstance(p, RunParams)
    sent = json.loads(json.dumps({**p.as_dict(), "km": 100.0, "domain": 4}))
    assert type(p).from_dict(sent) == p


def test_run_params_from_bad_json_is_a_fabric_error():
    from experiments.adaptive_routing.params import Params

    with pytest.raises(FabricError, match="bad experiment parameters|unknown"):
        Params.from_dict({"seeds": "not seeds", "schemes": 5})
