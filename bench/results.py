"""`make bench`'s results file: every benchmark's figures in one JSON file, the machine at the top.

    python -m bench.results [--results bench/results.json] [--check]   # the table of what it holds

A benchmark hands its figures over with `record(benchmark, figures, settings=..., path=...)`, each
built by `figure(...)` from the values of its runs and, beside them, its baseline's values measured
in the same runs. `record` replaces that benchmark's earlier entry and leaves the others, so the
benchmarks of one `make bench` fill one file, whatever order they run in:

    {
      "machine": {"cores": 2, "cpu": "...", "python": "3.11.2", "sqlite": "3.40.1",
                  "postgresql": "15.20 (server)", "platform": "Linux-..."},
      "benchmarks": {
        "load_queue": {
          "measured_at": "2026-12-04T04:10:00+00:00", "settings": {...},
          "figures": [
            {"name": "queue fragment", "unit": "requests/s", "runs": [281.0, 288.2, 290.1],
             "min": 281.0, "median": 288.2, "max": 290.1,
             "baseline": {"name": "bare route", "runs": [...], "min": ..., "median": ..., "max": ...},
             "ratio": {"runs": [...], "min": ..., "median": ..., "max": ...},
             "target": {"min_ratio": 0.15}, "pass": false}
          ]
        }
      }
    }

A ratio is the figure over its baseline run by run (min / median / max of those), and a target is
met only when every run meets it (`min_ratio` against the smallest ratio, `max_ratio` the largest).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sqlite3
import statistics
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

RESULTS_PATH = Path(__file__).resolve().parent / "results.json"
# The server's version when one answers here (as CI and the benchmarks use it), else the client's.
POSTGRESQL_URL = os.environ.get("BENCH_POSTGRESQL_URL", "postgresql://postgres@127.0.0.1:5432/postgres")


def spread(values: list[float]) -> dict:
    """The runs' values with their min, median and max."""
    values = [float(value) for value in values]
    return {"runs": values, "min": min(values), "median": statistics.median(values), "max": max(values)}


def figure(
    name: str,
    unit: str,
    values: list[float],
    baseline_name: str | None = None,
    baseline_values: list[float] | None = None,
    min_ratio: float | None = None,
    max_ratio: float | None = None,
    *,
    max_value: float | None = None,
    min_value: float | None = None,
    **extra,
) -> dict:
    """One figure over its runs, with its baseline's runs beside it (same count, same order) and the
    target on their ratio, or on the figure itself (`max_value`: every run under that, in its
    unit; `min_value`: every run at least that); `extra` (p99s, statuses...) is kept as it is."""
    entry = {"name": name, "unit": unit} | spread(values)
    if baseline_values is not None:
        if len(baseline_values) != len(values):
            raise ValueError(f"{name}: {len(values)} runs but {len(baseline_values)} baseline runs")
        entry["baseline"] = {"name": baseline_name} | spread(baseline_values)
        entry["ratio"] = spread(
            [
                value / base if base else float("inf")
                for value, base in zip(values, baseline_values, strict=True)
            ]
        )
    if min_ratio is not None or max_ratio is not None:
        if "ratio" not in entry:
            raise ValueError(f"{name}: a target needs a baseline")
        entry["target"] = {"min_ratio": min_ratio, "max_ratio": max_ratio}
        entry["pass"] = (min_ratio is None or entry["ratio"]["min"] >= min_ratio) and (
            max_ratio is None or entry["ratio"]["max"] <= max_ratio
        )
    if max_value is not None:
        entry.setdefault("target", {})["max_value"] = max_value
        entry["pass"] = entry.get("pass", True) and entry["max"] < max_value
    if min_value is not None:
        entry.setdefault("target", {})["min_value"] = min_value
        entry["pass"] = entry.get("pass", True) and entry["min"] >= min_value
    return entry | extra


def record(
    benchmark: str, figures: list[dict], settings: dict | None = None, path: Path = RESULTS_PATH
) -> Path:
    """Write `benchmark`'s figures into the results file (its earlier entry replaced), with the machine."""
    path = Path(path)
    results = load(path)
    results["machine"] = machine()
    results.setdefault("benchmarks", {})[benchmark] = {
        "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "settings": settings or {},
        "figures": figures,
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    scratch = path.with_name(path.name + ".tmp")
    scratch.write_text(json.dumps(results, indent=1, ensure_ascii=False) + "\n")
    scratch.replace(path)
    return path


def add_argument(parser: argparse.ArgumentParser) -> None:
    """--results PATH, for a benchmark that hands its figures over when given one."""
    parser.add_argument("--results", type=Path, help="also write the figures into this results file")


def load(path: Path = RESULTS_PATH) -> dict:
    """The results file as it stands, or an empty one."""
    try:
        return json.loads(Path(path).read_text())
    except FileNotFoundError:
        return {}


def machine() -> dict:
    """Cores, CPU model, Python, SQLite and PostgreSQL versions, and the platform."""
    return {
        "cores": os.cpu_count(),
        "cpu": cpu_model(),
        "python": platform.python_version(),
        "sqlite": sqlite3.sqlite_version,
        "postgresql": postgresql_version(),
        "platform": platform.platform(),
    }


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def postgresql_version() -> str | None:
    try:
        import psycopg

        with psycopg.connect(POSTGRESQL_URL, connect_timeout=2) as connection:
            return f"{connection.execute('SHOW server_version').fetchone()[0]} (server)"
    except Exception:  # no server here: the client's version, if there is one
        pass
    try:
        output = subprocess.run(["psql", "--version"], capture_output=True, text=True, timeout=5).stdout
    except (OSError, subprocess.TimeoutExpired):
        return None
    return f"{output.split()[-1]} (client)" if output.strip() else None


def format_table(results: dict) -> str:
    """Every benchmark's figures: median (min..max) of the runs, the baseline, the ratio and the target."""
    found = results.get("machine", {})
    lines = [
        f"{found.get('cores')} cores, {found.get('cpu')}; Python {found.get('python')}, "
        f"SQLite {found.get('sqlite')}, PostgreSQL {found.get('postgresql')}",
        "figure: median (min..max) over the runs; baseline the same; ratio min / median / max; target",
    ]
    for benchmark, entry in results.get("benchmarks", {}).items():
        lines.append(f"{benchmark} ({entry['measured_at']})")
        for item in entry["figures"]:
            lines.append(f"  {item['name']:48} {_spread(item)} {item['unit']}")
            baseline, ratio, target = item.get("baseline"), item.get("ratio"), item.get("target")
            if target and not baseline:
                lines.append(f"      target {_target(target)}: {'PASS' if item['pass'] else 'FAIL'}")
            if baseline:
                lines.append(
                    f"      baseline {baseline['name']}: {_spread(baseline)}; "
                    f"ratio {ratio['min']:.3f} / {ratio['median']:.3f} / {ratio['max']:.3f}"
                    + (f"; target {_target(target)}: {'PASS' if item['pass'] else 'FAIL'}" if target else "")
                )
    return "\n".join(lines)


def _spread(item: dict) -> str:
    return f"{item['median']:.4g} ({item['min']:.4g}..{item['max']:.4g})"


def _target(target: dict) -> str:
    parts = []
    if target.get("min_ratio") is not None:
        parts.append(f">= {target['min_ratio']:g}")
    if target.get("max_ratio") is not None:
        parts.append(f"<= {target['max_ratio']:g}")
    if target.get("max_p99_ms") is not None:
        parts.append(f"p99 < {target['max_p99_ms']:g} ms")
    if target.get("max_value") is not None:
        parts.append(f"every run < {target['max_value']:g}")
    if target.get("min_value") is not None:
        parts.append(f"every run >= {target['min_value']:g}")
    return " and ".join(parts)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.results", description=__doc__.splitlines()[0])
    parser.add_argument("--results", type=Path, default=RESULTS_PATH, help="the results file")
    parser.add_argument("--check", action="store_true", help="exit 1 when a figure misses its target")
    args = parser.parse_args(argv)
    results = load(args.results)
    if not results:
        print(
            f"no results in {args.results}: run `make bench` (or `make bench-quick`) first", file=sys.stderr
        )
        return 2
    print(format_table(results))
    missed = [
        f["name"] for b in results["benchmarks"].values() for f in b["figures"] if f.get("pass") is False
    ]
    return 1 if args.check and missed else 0


if __name__ == "__main__":
    raise SystemExit(main())
