"""The import benchmark runs end to end on a few generated seeds and hands its figures to the results file."""

import json

from bench import import_seeds


def test_the_import_and_the_reimport_are_recorded_beside_the_bare_parse(tmp_path, capsys):
    path = tmp_path / "results.json"
    assert import_seeds.main(["--n", "20", "--repeat", "2", "--results", str(path)]) == 0
    assert "imported 20, invalid 0" in capsys.readouterr().out
    entry = json.loads(path.read_text())["benchmarks"]["import_seeds (sqlite)"]
    assert entry["settings"]["seeds"] == 20
    imported, reimported = entry["figures"]
    assert (imported["name"], reimported["name"]) == ("import", "unchanged re-import")
    assert len(imported["runs"]) == len(imported["baseline"]["runs"]) == 2
    assert imported["baseline"]["name"] == "bare CSafeLoader parse"
    assert imported["target"]["max_ratio"] == import_seeds.MAX_IMPORT_RATIO and "target" not in reimported
