"""Seed import benchmark: bare libyaml parsing against the whole import, in one run.

    python -m bench.import_seeds [--n 20000] [--seed 1] [--corpus DIR] [--database-url URL]

Generates N seeds of the real seed's size (or reads --corpus), then times:
- bare: read each file and `yaml.load(front_matter, Loader=CSafeLoader)`, nothing else;
- import: `seeds import` of the folder into an empty, migrated database;
- re-import: the same folder again, every file unchanged.
"""

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import yaml
from flask_migrate import upgrade
from sqlalchemy import text

from webapp import create_app
from webapp.models import db
from webapp.services.seed_import import import_paths

from . import results
from .generate import write_corpus

# Issue 15: the import within 1.5 times the bare parse, in every round.
MAX_IMPORT_RATIO = 1.5


def bare_parse(files: list[Path]) -> None:
    for path in files:
        text = path.read_text(encoding="utf-8")
        end = text.index("\n---", 4)
        yaml.load(text[4:end], Loader=yaml.CSafeLoader)


def timed(function, *args) -> float:
    started = time.perf_counter()
    function(*args)
    return time.perf_counter() - started


def measure(corpus: Path, files: list[Path], database_url: str) -> tuple[float, float, float, dict]:
    """One round: bare parse, import into an empty database, unchanged re-import."""
    app = create_app({"SQLALCHEMY_DATABASE_URI": database_url, "SECRET_KEY": "bench"})
    with app.app_context():
        _empty(database_url)
        upgrade()
        limit = app.config["SEED_MAX_BYTES"]
        bare = timed(bare_parse, files)
        reports = {}
        full = timed(lambda: reports.setdefault("import", import_paths([str(corpus)], max_bytes=limit)))
        again = timed(lambda: reports.setdefault("reimport", import_paths([str(corpus)], max_bytes=limit)))
        db.session.remove()
        db.engine.dispose()
    return bare, full, again, reports


def _empty(database_url: str) -> None:
    if database_url.startswith("sqlite:///"):
        path = Path(database_url.removeprefix("sqlite:///"))
        for leftover in path.parent.glob(path.name + "*"):
            leftover.unlink()
    else:
        with db.engine.begin() as connection:
            connection.execute(text("DROP SCHEMA public CASCADE"))
            connection.execute(text("CREATE SCHEMA public"))


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--repeat", type=int, default=3, help="rounds; medians are printed")
    parser.add_argument("--corpus", type=Path, help="seed folder to use instead of generating one")
    parser.add_argument(
        "--database-url", help="a scratch PostgreSQL database, emptied each round (default: SQLite)"
    )
    results.add_argument(parser)
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory(prefix="copydesk-bench-") as scratch:
        corpus = args.corpus or Path(scratch) / "seeds"
        if not args.corpus:
            write_corpus(args.n, args.seed, corpus)
        files = sorted(p for p in corpus.iterdir() if p.suffix in (".md", ".txt"))
        mean_size = statistics.mean(p.stat().st_size for p in files)
        database_url = args.database_url or f"sqlite:///{Path(scratch) / 'bench.db'}"
        rounds = [measure(corpus, files, database_url) for _ in range(args.repeat)]

    bare, full, again = (statistics.median(r[i] for r in rounds) for i in range(3))
    first, second = rounds[-1][3]["import"], rounds[-1][3]["reimport"]
    print(
        f"{len(files):,} seeds, mean {mean_size / 1024:.1f} KiB, {database_url.split(':')[0]}, "
        f"median of {args.repeat}"
    )
    print(f"{'':24}{'seconds':>9}{'x bare parse':>14}  outcome")
    print(f"{'bare CSafeLoader parse':24}{bare:9.2f}{1:14.2f}")
    print(f"{'import':24}{full:9.2f}{full / bare:14.2f}  imported {first.imported}, invalid {first.invalid}")
    print(f"{'unchanged re-import':24}{again:9.2f}{again / bare:14.2f}  unchanged {second.unchanged}")
    if args.results:
        database = database_url.split(":")[0]
        settings = {"seeds": len(files), "mean_kib": round(mean_size / 1024, 1), "database": database}
        results.record(f"import_seeds ({database})", result_figures(rounds), settings, args.results)
    return 0


def result_figures(rounds: list[tuple[float, float, float, dict]]) -> list[dict]:
    """The import and the unchanged re-import, in seconds, each beside the bare parse of the same round."""
    bare = [round_[0] for round_ in rounds]
    return [
        results.figure(
            "import", "s", [r[1] for r in rounds], "bare CSafeLoader parse", bare, max_ratio=MAX_IMPORT_RATIO
        ),
        results.figure("unchanged re-import", "s", [r[2] for r in rounds], "bare CSafeLoader parse", bare),
    ]


if __name__ == "__main__":
    raise SystemExit(main())
