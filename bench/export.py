"""Export benchmark: exporting the approved articles against bare CSafeDumper, in one run.

    python -m bench.export [--n 100000] [--unique 10000] [--seed 1] [--db PATH]
                           [--format dir|zip|yaml|all] [--profile] [--json]

With N articles in a SQLite database, every one approved, each of these runs in a child
process of its own, timed inside it (app start-up excluded) and its peak RSS read when it
exits:

- baseline: the approved articles' source text, read as the export reads it (oldest
  approval first, `yield_per=500`), each front matter loaded into a mapping with
  `seeds.load_front_matter` untimed, then only the `yaml.dump(mapping, stream,
  Dumper=CSafeDumper, allow_unicode=True, sort_keys=False, explicit_start=True)` calls
  into one multi-document file are timed (the sum of each call's time);
- export: `webapp.services.exporting.export(out, FORMAT, ExportFilters(), requested_by="bench")`,
  the whole call: reading, editing each seed, checking it and writing the output (a
  folder for `dir`, one file for `zip` and `yaml`). `--format all` exports in each format,
  one child each, against the one baseline.

Targets (from the issue): each export takes at most 2.0 x the baseline's seconds, and the
export's process peaks under 300 MB RSS (MiB, `ru_maxrss`), the issue's flat memory. Prints
seconds, articles/s, the ratio to the baseline and peak RSS, or the same as JSON with
--json. `--profile` runs the export under cProfile and prints the top functions to
stderr (its seconds then include the profiler's overhead). Exit status: 0 when every
target passes, 1 when one fails, 2 when the benchmark could not run.

The database (see bench/queue_db.py) is built in a scratch folder and deleted afterwards,
or built into --db PATH and reused by later runs: 10,000 generated seeds imported through
the real importer and copied in SQL up to N, then all approved in one UPDATE by the bench
user at one fixed time, with heat 1 + id % 199, and each copy named after its identity as
an import would name it (copies keep their original's file name, which `dir` and `zip`
would write twice): under a minute for 100,000. Exports go to a scratch folder, deleted
after each one; each export adds its run's records to the database, which later runs do
not mind (a plain export writes every approved article). At 100,000 on two cores the
baseline's child takes about a minute and a half (its untimed loading included) and each
export's about two minutes: seven and a half minutes for `--format all`.
"""

from __future__ import annotations

# Only the standard library up here, and the app imported in the children alone: on Linux
# a child's peak RSS starts from the high-water mark of the process that spawned it (the
# kernel keeps it when the child execs), so this process has to stay small.
import argparse
import cProfile
import json
import os
import pstats
import secrets
import shutil
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath

from . import results
from .children import BenchmarkError, run_child

FORMATS = ("dir", "zip", "yaml")
MAX_RATIO = 2.0
MAX_PEAK_RSS_MB = 300
APPROVED_AT = datetime(2024, 1, 15, 9, 30, tzinfo=UTC)
HEAT_MODULUS = 199
BATCH_SIZE = 500
PROFILE_LINES = 25


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


# --- In the children: each task prints its figures as one JSON line on stdout.


def child(task: str, *arguments: str) -> None:
    """A child process's entry point (see bench/children.py)."""
    tasks = {"prepare": prepare_database, "baseline": dump_baseline, "export": run_export}
    print(json.dumps(tasks[task](*arguments)), flush=True)


def _app(db_path: str):
    from webapp import create_app

    from .queue_db import sqlite_url

    return create_app(
        {"SQLALCHEMY_DATABASE_URI": sqlite_url(Path(db_path)), "SECRET_KEY": secrets.token_hex(16)}
    )


def prepare_database(db_path: str, n: str, unique: str, seed: str) -> dict:
    """Build or reuse the database, then approve every article unless N already are."""
    from sqlalchemy import func, select, text, update

    from webapp.models import APPROVED, Article, User, db

    from . import queue_db

    n = int(n)
    built = queue_db.prepare(Path(db_path), n, int(unique), int(seed), secrets.token_hex(16), log=log)
    log("  built" if built else "  reused")
    with _app(db_path).app_context():
        approved = db.session.scalar(select(func.count()).where(Article.status == APPROVED))
        if approved < n:
            bench_user = db.session.scalar(select(User.id).where(User.username == queue_db.USERNAME))
            db.session.execute(
                update(Article).values(
                    status=APPROVED,
                    decided_at=APPROVED_AT,
                    decided_by_id=bench_user,
                    heat=1 + Article.id % HEAT_MODULUS,
                )
            )
            db.session.commit()
            db.session.execute(text("PRAGMA wal_checkpoint(TRUNCATE)"))
            approved = db.session.scalar(select(func.count()).where(Article.status == APPROVED))
            log(f"  approved all {approved:,} articles")
        _name_copies_after_their_identity()
        db.session.remove()
        db.engine.dispose()
    return {"built": built, "approved": approved}


def _name_copies_after_their_identity() -> None:
    """queue_db's copies keep their original's file name, which the dir and zip formats would
    write twice: name each after its identity, as the importer does (identity = file stem)."""
    from sqlalchemy import bindparam, select, text, update

    from webapp.models import Article, db

    articles = Article.__table__
    renames = [
        {"article_id": row.id, "new_name": row.identity + PurePosixPath(row.source_name).suffix}
        for row in db.session.execute(select(Article.id, Article.identity, Article.source_name))
        if PurePosixPath(row.source_name).stem != row.identity
    ]
    if renames:
        rename = (
            update(articles)
            .where(articles.c.id == bindparam("article_id"))
            .values(source_name=bindparam("new_name"))
        )
        db.session.execute(rename, renames)
        db.session.commit()
        db.session.execute(text("PRAGMA wal_checkpoint(TRUNCATE)"))
        log(f"  named {len(renames):,} copied articles after their identity")


def dump_baseline(db_path: str, out: str) -> dict:
    """Time bare CSafeDumper dumps of every approved article's front matter, loaded untimed."""
    import yaml
    from sqlalchemy import select

    from webapp.formats.seeds import load_front_matter, split_front_matter
    from webapp.models import APPROVED, Article, db

    statement = (
        select(Article.source_text)
        .where(Article.status == APPROVED)
        .order_by(Article.decided_at, Article.id)
        .execution_options(yield_per=BATCH_SIZE)
    )
    dumping = 0.0
    articles = 0
    with _app(db_path).app_context(), open(out, "w", encoding="utf-8") as stream:
        for source_text in db.session.scalars(statement):
            mapping = load_front_matter(split_front_matter(source_text.removeprefix("\ufeff"))[0])
            started = time.perf_counter()
            yaml.dump(
                mapping,
                stream,
                Dumper=yaml.CSafeDumper,
                allow_unicode=True,
                sort_keys=False,
                explicit_start=True,
            )
            dumping += time.perf_counter() - started
            articles += 1
    return {"seconds": dumping, "articles": articles, "bytes": Path(out).stat().st_size}


def run_export(db_path: str, fmt: str, out: str, profile: str) -> dict:
    """Time one export of every approved article, under cProfile when `profile` is "profile"."""
    from webapp.services.exporting import ExportFilters, export

    with _app(db_path).app_context():
        arguments = (Path(out), fmt, ExportFilters())
        profiler = cProfile.Profile() if profile == "profile" else None
        started = time.perf_counter()
        if profiler:
            run = profiler.runcall(export, *arguments, requested_by="bench")
        else:
            run = export(*arguments, requested_by="bench")
        seconds = time.perf_counter() - started
    if profiler:
        for order in ("cumulative", "tottime"):
            pstats.Stats(profiler, stream=sys.stderr).sort_stats(order).print_stats(PROFILE_LINES)
    return {"seconds": seconds, "articles": run.count, "sha256": run.sha256, "bytes": _size(Path(out))}


def _size(path: Path) -> int:
    if path.is_dir():
        return sum(entry.stat().st_size for entry in os.scandir(path))
    return path.stat().st_size


# --- In the parent.


def measure_baseline(db_path: Path, scratch: Path) -> dict:
    log("baseline: CSafeDumper dump of every approved article's front matter")
    out = scratch / "baseline.yaml"
    figures, peak_rss_mb = run_child("export", "baseline", db_path, out)
    out.unlink()
    if not figures["articles"]:
        raise BenchmarkError(f"{db_path} holds no approved articles")
    return {"name": "CSafeDumper dump (baseline)", **figures, "peak_rss_mb": peak_rss_mb}


def measure_export(db_path: Path, fmt: str, scratch: Path, profile: bool) -> dict:
    log(f"export: format {fmt}" + (", under cProfile" if profile else ""))
    out = scratch / ("export" if fmt == "dir" else f"export.{fmt}")
    figures, peak_rss_mb = run_child("export", "export", db_path, fmt, out, "profile" if profile else "plain")
    if out.is_dir() and not out.is_symlink():
        shutil.rmtree(out)
    else:  # a file, or the dir format's link to its version (which goes with the scratch folder)
        out.unlink()
    return {"name": f"export ({fmt})", "format": fmt, **figures, "peak_rss_mb": peak_rss_mb}


def summary(baseline: dict, exports: list[dict], args, db_path: Path, took: dict) -> dict:
    runs = [baseline, *exports]
    for run in runs:
        run["articles_per_second"] = run["articles"] / run["seconds"]
        run["ratio_to_baseline"] = run["seconds"] / baseline["seconds"]
    targets = []
    for run in exports:
        if run["articles"] != baseline["articles"]:
            raise BenchmarkError(
                f"{run['name']} wrote {run['articles']:,} articles, the baseline {baseline['articles']:,}"
            )
        targets.append(
            {
                "format": run["format"],
                "max_ratio": MAX_RATIO,
                "ratio": run["ratio_to_baseline"],
                "ratio_pass": run["ratio_to_baseline"] <= MAX_RATIO,
                "max_peak_rss_mb": MAX_PEAK_RSS_MB,
                "peak_rss_mb": run["peak_rss_mb"],
                "peak_rss_pass": run["peak_rss_mb"] <= MAX_PEAK_RSS_MB,
            }
        )
    return {
        "articles": baseline["articles"],
        "database": str(db_path) if args.db else "scratch",
        "profiled": args.profile,
        "runs": runs,
        "targets": targets,
        "seconds": took,
    }


def format_table(report: dict) -> str:
    lines = [
        f"{report['articles']:,} approved articles, SQLite ({report['database']}); "
        "each run in its own process" + ("; exports under cProfile" if report["profiled"] else ""),
        f"{'':30}{'seconds':>9}{'articles/s':>12}{'x baseline':>12}{'peak RSS MB':>13}",
    ]
    for run in report["runs"]:
        lines.append(
            f"{run['name']:30}{run['seconds']:9.2f}{run['articles_per_second']:12,.0f}"
            f"{run['ratio_to_baseline']:12.2f}{run['peak_rss_mb']:13.0f}"
        )
    for target in report["targets"]:
        lines.append(
            f"targets ({target['format']}): export <= {target['max_ratio']} x baseline: "
            f"{target['ratio']:.2f} "
            f"{_verdict(target['ratio_pass'])}; peak RSS <= {target['max_peak_rss_mb']} MB: "
            f"{target['peak_rss_mb']:.0f} {_verdict(target['peak_rss_pass'])}"
        )
    took = report["seconds"]
    lines.append(
        f"took {took['total']:.0f}s (database {took['database']:.0f}s, measuring {took['measuring']:.0f}s)"
    )
    return "\n".join(lines)


def _verdict(passed: bool) -> str:
    return "PASS" if passed else "FAIL"


def parse_args(argv):
    parser = argparse.ArgumentParser(prog="python -m bench.export", description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=100_000, help="articles in the database (default 100,000)")
    parser.add_argument(
        "--unique", type=int, default=10_000, help="seeds imported before copying up to N (default 10,000)"
    )
    parser.add_argument("--seed", type=int, default=1, help="generator seed (default 1)")
    parser.add_argument(
        "--db", type=Path, help="SQLite file to build, or to reuse when it already holds N articles"
    )
    parser.add_argument(
        "--format", choices=(*FORMATS, "all"), default="dir", help="export format to measure (default dir)"
    )
    parser.add_argument(
        "--profile", action="store_true", help="run the export under cProfile; top functions to stderr"
    )
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    results.add_argument(parser)
    args = parser.parse_args(argv)
    if args.n < 1 or args.unique < 1:
        parser.error("need --n >= 1 and --unique >= 1")
    return args


def run(args, scratch: Path) -> dict:
    started = time.perf_counter()
    db_path = (args.db or scratch / "export.db").resolve()
    log(f"database {db_path}: {args.n:,} articles")
    run_child("export", "prepare", db_path, args.n, args.unique, args.seed)
    prepared = time.perf_counter()
    baseline = measure_baseline(db_path, scratch)
    formats = FORMATS if args.format == "all" else (args.format,)
    exports = [measure_export(db_path, fmt, scratch, args.profile) for fmt in formats]
    finished = time.perf_counter()
    took = {"total": finished - started, "database": prepared - started, "measuring": finished - prepared}
    return summary(baseline, exports, args, db_path, took)


def main(argv=None) -> int:
    args = parse_args(argv)
    try:
        with tempfile.TemporaryDirectory(prefix="copydesk-bench-export-") as scratch:
            report = run(args, Path(scratch))
    except BenchmarkError as error:
        log(f"export: {error}")
        return 2
    print(json.dumps(report, indent=1) if args.json else format_table(report))
    if args.results:
        settings = {"articles": report["articles"], "database": report["database"]}
        results.record("export", result_figures(report), settings, args.results)
    return 0 if all(t["ratio_pass"] and t["peak_rss_pass"] for t in report["targets"]) else 1


def result_figures(report: dict) -> list[dict]:
    """Each format's export in seconds beside the bare CSafeDumper dump of the same articles (held to
    MAX_RATIO of it), and its peak RSS (held under MAX_PEAK_RSS_MB)."""
    baseline, *exports = report["runs"]
    figures = []
    for run in exports:
        figures.append(
            results.figure(
                run["name"],
                "s",
                [run["seconds"]],
                "CSafeDumper dump",
                [baseline["seconds"]],
                max_ratio=MAX_RATIO,
                articles=run["articles"],
            )
        )
        figures.append(
            results.figure(f"{run['name']} peak RSS", "MB", [run["peak_rss_mb"]], max_value=MAX_PEAK_RSS_MB)
        )
    return figures


if __name__ == "__main__":
    raise SystemExit(main())
