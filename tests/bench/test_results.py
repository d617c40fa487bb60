"""bench/results.py: figures with their baseline and spread, merged into one file with the machine."""

import json

import pytest

from bench import results


def test_a_figure_has_its_spread_its_baseline_and_the_ratio_of_each_run():
    entry = results.figure(
        "queue fragment", "requests/s", [300, 100, 200], "bare", [1000, 1000, 500], min_ratio=0.15
    )
    assert (entry["min"], entry["median"], entry["max"]) == (100, 200, 300)
    assert entry["baseline"]["median"] == 1000 and entry["baseline"]["name"] == "bare"
    assert entry["ratio"]["runs"] == [0.3, 0.1, 0.4]
    assert entry["pass"] is False  # one run of three missed 0.15: a pass needs every run
    assert results.figure("x", "s", [2, 3], "base", [10, 10], max_ratio=0.3)["pass"] is True
    assert results.figure("x", "s", [2, 4], "base", [10, 10], max_ratio=0.3)["pass"] is False


def test_a_figure_refuses_baselines_of_other_runs_and_targets_without_a_baseline():
    with pytest.raises(ValueError, match="3 runs but 2 baseline runs"):
        results.figure("x", "s", [1, 2, 3], "base", [1, 2])
    with pytest.raises(ValueError, match="needs a baseline"):
        results.figure("x", "s", [1], min_ratio=2)


def test_record_keeps_other_benchmarks_replaces_its_own_and_writes_the_machine(tmp_path):
    path = tmp_path / "results.json"
    results.record("load_queue", [results.figure("old", "s", [1])], {"n": 1}, path)
    results.record(
        "peer", [results.figure("page 1", "requests/s", [900], "admin", [100], min_ratio=8)], path=path
    )
    results.record("load_queue", [results.figure("new", "s", [2])], {"n": 2}, path)
    written = json.loads(path.read_text())
    assert set(written["machine"]) == {"cores", "cpu", "python", "sqlite", "postgresql", "platform"}
    assert written["machine"]["cores"] >= 1 and written["machine"]["sqlite"].count(".") == 2
    assert [f["name"] for f in written["benchmarks"]["load_queue"]["figures"]] == ["new"]
    assert written["benchmarks"]["load_queue"]["settings"] == {"n": 2}
    assert written["benchmarks"]["peer"]["figures"][0]["pass"] is True
    assert not list(tmp_path.glob("*.tmp"))


def test_the_table_shows_each_figure_with_its_baseline_and_verdict_and_check_fails_on_a_miss(
    tmp_path, capsys
):
    path = tmp_path / "results.json"
    results.record(
        "peer",
        [results.figure("page 1", "requests/s", [700, 900], "admin", [100, 100], min_ratio=8)],
        path=path,
    )
    assert results.main(["--results", str(path)]) == 0
    table = capsys.readouterr().out
    assert "page 1" in table and "baseline admin: 100 (100..100)" in table
    assert "ratio 7.000 / 8.000 / 9.000; target >= 8: FAIL" in table
    assert results.main(["--results", str(path), "--check"]) == 1
    assert results.main(["--results", str(tmp_path / "none.json")]) == 2


def test_a_figure_held_to_a_value_passes_only_when_every_run_is_under_it(tmp_path, capsys):
    assert results.figure("stats page p95", "ms", [30, 45], max_value=50)["pass"] is True
    assert results.figure("recall", "share", [0.95, 0.9], min_value=0.9)["pass"] is True
    assert results.figure("recall", "share", [0.95, 0.89], min_value=0.9)["pass"] is False
    missed = results.figure(
        "stats page p95", "ms", [30, 55], "full aggregation p95", [300, 310], max_value=50
    )
    assert missed["pass"] is False and missed["ratio"]["max"] == pytest.approx(55 / 310)
    path = tmp_path / "results.json"
    results.record("stats", [results.figure("stats page p95", "ms", [30, 55], max_value=50)], path=path)
    assert results.main(["--results", str(path), "--check"]) == 1
    assert "target every run < 50: FAIL" in capsys.readouterr().out
