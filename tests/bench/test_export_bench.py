"""The export benchmark runs end to end on a small database and hands its figures to the results file."""

import json

from bench import export


def test_the_export_is_recorded_beside_the_bare_dump_with_its_peak_memory(tmp_path):
    path = tmp_path / "results.json"
    assert export.main(["--n", "60", "--unique", "30", "--results", str(path)]) in (0, 1)
    entry = json.loads(path.read_text())["benchmarks"]["export"]
    seconds, memory = entry["figures"]
    assert seconds["name"] == "export (dir)" and seconds["baseline"]["name"] == "CSafeDumper dump"
    assert (
        seconds["target"]["max_ratio"] == export.MAX_RATIO
        and seconds["articles"] == entry["settings"]["articles"]
    )
    assert memory["unit"] == "MB" and memory["target"]["max_value"] == export.MAX_PEAK_RSS_MB
    assert 0 < memory["runs"][0] < export.MAX_PEAK_RSS_MB
