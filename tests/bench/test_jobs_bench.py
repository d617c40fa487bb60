"""The jobs benchmark runs end to end at small sizes: the export job writes every approved article,
and the upload job imports the same files as `seeds import`, each beside its baseline."""

import json

from bench import jobs as jobs_bench


def test_a_small_run_measures_both_jobs_beside_their_baselines(tmp_path, capsys):
    status = jobs_bench.main(
        ["--export-n", "60", "--unique", "30", "--upload-n", "25", "--db", str(tmp_path / "e.db"), "--json"]
    )
    assert status == 0
    report = json.loads(capsys.readouterr().out)
    baseline, export_job = report["export"]
    assert baseline["articles"] == export_job["articles"] == 60
    assert export_job["bytes"] > 0 and export_job["peak_rss_mb"] > 0
    command, upload = report["upload"]
    assert command["imported"] == upload["imported"] == upload["articles"] > 0
    assert upload["invalid"] == command["invalid"] == 0
    assert upload["seconds"] >= upload["staging_seconds"] > 0


def test_the_table_prints_each_run_as_a_ratio_of_its_baseline():
    runs = [
        {"name": "seeds import (baseline)", "seconds": 10.0, "articles": 100, "peak_rss_mb": 120},
        {"name": "upload job (one zip)", "seconds": 8.0, "articles": 100, "peak_rss_mb": 130},
    ]
    lines = jobs_bench.format_table("Upload job", runs).splitlines()
    assert lines[2].split()[-5:] == ["10.0", "10", "1.00", "120", "MiB"]
    assert lines[3].split()[-5:] == ["8.0", "12", "0.80", "130", "MiB"]
