"""The search benchmark runs end to end on a small database (built as the load benchmarks build theirs)
and prints every case, the searches' copies found through the full-text index."""

import json

from bench import search as search_bench


def test_a_small_run_measures_every_case_on_sqlite(tmp_path, capsys):
    status = search_bench.main(
        ["--n", "40", "--unique", "20", "--runs", "2", "--sqlite", str(tmp_path / "s.db"), "--json"]
    )
    assert status in (0, 1)  # 1: a case over the target on a busy machine; 2 would be a failure to run
    (result,) = json.loads(capsys.readouterr().out)
    assert result["database"] == "sqlite" and result["n"] == 40
    cases = result["cases"]
    assert len(cases) == 15 and all(figure["p95_ms"] >= figure["p50_ms"] > 0 for figure in cases.values())
    assert next(iter(cases.values()))["matches"] == 40  # the baseline: every pending article
    rare = next(figure for name, figure in cases.items() if name.startswith("search rare"))
    assert rare["matches"] > 0 and rare["matches"] % 2 == 0  # a word of one original is in each copy
    assert next(figure for name, figure in cases.items() if name.startswith("search absent"))["matches"] == 0


def test_the_figures_go_into_the_results_file_beside_the_keyset_page(tmp_path):
    path = tmp_path / "results.json"
    status = search_bench.main(
        [
            "--n",
            "40",
            "--unique",
            "20",
            "--runs",
            "2",
            "--sqlite",
            str(tmp_path / "s.db"),
            "--results",
            str(path),
        ]
    )
    assert status in (0, 1)
    [(name, entry)] = json.loads(path.read_text())["benchmarks"].items()
    assert name == "search (sqlite, 40 articles)" and entry["settings"]["runs"] == 2
    figures = entry["figures"]
    assert len(figures) == 14 and all(f["baseline"]["name"] == "the queue's keyset page" for f in figures)
    assert all(f["target"]["max_value"] == search_bench.TARGET_MS and f["unit"] == "ms p95" for f in figures)
