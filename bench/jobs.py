"""Jobs benchmark: an Export page export and a browser upload, each run as the worker runs its job.

    python -m bench.jobs [--export-n 100000] [--upload-n 20000] [--unique 10000] [--seed 1]
                         [--db PATH] [--only export|upload] [--json]

Each step runs in a child process of its own (bench/children.py), timed inside it, with its peak RSS:

- export job: N approved articles (bench.export's database; --db keeps it for later runs), a zip
  export started as the Export page starts it (`job_queue.start("export", …)`) and run in that call
  (JOBS_IMMEDIATE: the worker's own code, claim, progress with its lease, and finish), beside
  bench.export's baseline, bare CSafeDumper dumps of the same articles' front matter;
- upload job: M generated seeds zipped into one file, staged as the Imports page stages an upload
  (`uploads.stage`, the request's part) and imported by its job (`job_queue.start("upload", …)`)
  into an empty SQLite database, beside `seeds import` of the same files (`import_paths`, as the
  command calls it) into another empty one.

Prints seconds, articles/s, peak RSS and the ratios; nothing here is a pass or fail (the issue asks
for the figures). At 100,000 and 20,000 on two cores it takes about ten minutes.
"""

from __future__ import annotations

# Only the standard library up here (see bench/export.py: a child's peak RSS starts from its parent's).
import argparse
import json
import secrets
import sys
import tempfile
import time
import zipfile
from pathlib import Path

from .children import BenchmarkError, run_child
from .export import log, measure_baseline


def child(task: str, *arguments: str) -> None:
    """A child process's entry point (see bench/children.py)."""
    tasks = {"export": export_job, "upload": upload_job, "import": command_import}
    print(json.dumps(tasks[task](*arguments)), flush=True)


def _app(database: Path, jobs_folder: Path):
    from webapp import create_app

    from .queue_db import sqlite_url

    return create_app(
        {
            "SQLALCHEMY_DATABASE_URI": sqlite_url(database),
            "SECRET_KEY": secrets.token_hex(16),
            "JOBS_IMMEDIATE": True,
            "JOBS_URL": sqlite_url(jobs_folder / "queue.sqlite"),
            "JOBS_FOLDER": str(jobs_folder),
        }
    )


def _finished(job) -> dict:
    from webapp.models import DONE

    if job.status != DONE:
        raise BenchmarkError(f"the {job.kind} job ended {job.status}: {job.message}")
    return {"done": job.done, "total": job.total}


def export_job(db_path: str, jobs_folder: str) -> dict:
    """Start a zip export of every approved article as the Export page does; it runs in the call."""
    from webapp.services import export_jobs, job_queue
    from webapp.services.exporting import ExportFilters

    with _app(Path(db_path), Path(jobs_folder)).app_context():
        params = export_jobs.params(ExportFilters(), "zip")
        started = time.perf_counter()
        job = job_queue.start("export", params, requested_by="bench", requested_by_id=None)
        seconds = time.perf_counter() - started
        figures = _finished(job)
        size = Path(job.result_path).stat().st_size
    return {"seconds": seconds, "articles": figures["done"], "bytes": size}


class _Sent:
    """A file as the request hands it to uploads.stage (werkzeug's FileStorage: a name and save)."""

    def __init__(self, path: Path):
        self.path, self.filename = path, path.name

    def save(self, target) -> None:
        Path(target).write_bytes(self.path.read_bytes())


def _empty_database() -> None:
    from flask_migrate import upgrade

    upgrade()


def upload_job(db_path: str, jobs_folder: str, archive: str) -> dict:
    """Stage the zip as the Imports page does, then run its upload job into the empty database."""
    from webapp.models import ImportRun, db
    from webapp.services import job_queue, uploads

    with _app(Path(db_path), Path(jobs_folder)).app_context():
        _empty_database()
        started = time.perf_counter()
        params = uploads.stage([_Sent(Path(archive))], Path(jobs_folder) / "uploads")
        staged = time.perf_counter()
        job = job_queue.start("upload", params, requested_by="bench", requested_by_id=None)
        finished = time.perf_counter()
        figures = _finished(job)
        run = db.session.get(ImportRun, job.import_run_id)
    return {
        "seconds": finished - started,
        "staging_seconds": staged - started,
        "articles": figures["done"],
        "imported": run.imported,
        "invalid": run.invalid,
    }


def command_import(db_path: str, jobs_folder: str, corpus: str) -> dict:
    """`seeds import` of the folder into the empty database, as the command calls the importer."""
    from flask import current_app

    from webapp.services.seed_import import import_paths

    with _app(Path(db_path), Path(jobs_folder)).app_context():
        _empty_database()
        started = time.perf_counter()
        report = import_paths([corpus], max_bytes=current_app.config["SEED_MAX_BYTES"])
        seconds = time.perf_counter() - started
    return {
        "seconds": seconds,
        "articles": report.imported,
        "imported": report.imported,
        "invalid": report.invalid,
    }


# --- In the parent.


def measure_export(args, scratch: Path) -> list[dict]:
    db_path = args.db or scratch / "export.db"
    log(f"export: {args.export_n:,} approved articles in {db_path}")
    run_child("export", "prepare", db_path, args.export_n, args.unique, args.seed)
    baseline = measure_baseline(db_path, scratch)
    log("export job: a zip of every approved article, as the Export page starts it")
    figures, peak = run_child("jobs", "export", db_path, scratch / "export-jobs")
    job = {"name": "export job (zip)", **figures, "peak_rss_mb": peak}
    return [baseline, job]


def measure_upload(args, scratch: Path) -> list[dict]:
    from .generate import write_corpus  # the generator only: it imports none of the app

    corpus = scratch / "seeds"
    log(f"upload: generating {args.upload_n:,} seeds")
    write_corpus(args.upload_n, args.seed, corpus)
    archive = scratch / "seeds.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as bundle:
        for path in sorted(corpus.iterdir()):
            if path.suffix in (".md", ".txt"):  # the generator's truth file stays out, as import skips it
                bundle.write(path, f"seeds/{path.name}")
    log(f"  zipped: {archive.stat().st_size / 2**20:.1f} MiB")
    log("upload job: the zip staged and imported as the Imports page does it")
    upload, upload_peak = run_child("jobs", "upload", scratch / "upload.db", scratch / "upload-jobs", archive)
    log("seeds import: the same files")
    command, command_peak = run_child(
        "jobs", "import", scratch / "command.db", scratch / "command-jobs", corpus
    )
    if upload["imported"] != command["imported"]:
        raise BenchmarkError(
            f"the upload imported {upload['imported']:,}, seeds import {command['imported']:,}"
        )
    return [
        {"name": "seeds import (baseline)", **command, "peak_rss_mb": command_peak},
        {"name": "upload job (one zip)", **upload, "peak_rss_mb": upload_peak},
    ]


def format_table(title: str, runs: list[dict]) -> str:
    baseline = runs[0]
    lines = [title, f"{'':34}{'seconds':>9}{'articles/s':>12}{'x baseline':>12}{'peak RSS':>11}"]
    for run in runs:
        lines.append(
            f"{run['name']:34}{run['seconds']:9.1f}{run['articles'] / run['seconds']:12,.0f}"
            f"{run['seconds'] / baseline['seconds']:12.2f}{run['peak_rss_mb']:8.0f} MiB"
        )
    return "\n".join(lines)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.jobs", description=__doc__.splitlines()[0])
    parser.add_argument("--export-n", type=int, default=100_000, help="approved articles to export (100,000)")
    parser.add_argument("--upload-n", type=int, default=20_000, help="seed files to upload (20,000)")
    parser.add_argument("--unique", type=int, default=10_000, help="seeds imported before copying (10,000)")
    parser.add_argument("--seed", type=int, default=1, help="generator seed (default 1)")
    parser.add_argument("--db", type=Path, help="the export's SQLite database, built or reused")
    parser.add_argument("--only", choices=("export", "upload"), help="run one of the two")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = parser.parse_args(argv)
    report = {}
    try:
        with tempfile.TemporaryDirectory(prefix="copydesk-bench-jobs-") as folder:
            scratch = Path(folder)
            if args.only in (None, "export"):
                report["export"] = measure_export(args, scratch)
            if args.only in (None, "upload"):
                report["upload"] = measure_upload(args, scratch)
    except BenchmarkError as error:
        print(f"bench.jobs: {error}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps(report, indent=2))
        return 0
    if "export" in report:
        print(
            format_table(
                f"Export job, {report['export'][1]['articles']:,} approved articles", report["export"]
            )
        )
    if "upload" in report:
        print(format_table(f"Upload job, {report['upload'][1]['articles']:,} seed files", report["upload"]))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
