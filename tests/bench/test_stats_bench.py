"""The stats benchmark runs end to end on a small history and hands its figures to the results file."""

import json

from bench import stats


def test_each_route_is_recorded_beside_the_bare_route_and_the_page_held_to_its_target(tmp_path):
    path = tmp_path / "results.json"
    url = f"sqlite:///{tmp_path / 'stats.db'}"
    arguments = ["--database-url", url, "--articles", "300", "--events", "1000", "--requests", "2"]
    assert stats.main([*arguments, "--results", str(path)]) in (0, 1)  # 1: over the target on a busy machine
    entry = json.loads(path.read_text())["benchmarks"]["stats (sqlite, 1,000 events)"]
    figures = {figure["name"]: figure for figure in entry["figures"]}
    assert {"stats page", "stats fragment", stats.FULL_AGGREGATION} <= set(figures)
    assert all(figure["baseline"]["name"] == "bare route" for figure in figures.values())
    assert figures["stats page"]["target"]["max_value"] == stats.TARGET_MS
    assert "target" not in figures["stats fragment"]
    assert entry["settings"]["events"] == 1000
