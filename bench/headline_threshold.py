"""Calibrate the near-headline signal ("similar headline (93%)") on labelled headline pairs.

    python -m bench.headline_threshold [--pairs tests/data/headline_pairs.tsv] [--corpus DIR]

The labelled set is a TSV with a header: label (1 = the same article reached twice, 0 = different
articles), title_a, title_b, outlet_a, outlet_b, note.  It is split deterministically: even data
lines (0, 2, 4, … after the header) calibrate, odd lines are held out.  For rapidfuzz's
token_sort_ratio, ratio and token_set_ratio (and the mean of token_sort and ratio), with the
guards of ``webapp.formats.headlines`` and a floor on shared content words, the report shows precision and
recall over thresholds on both halves, the best setting of each scorer on the calibration half
(highest recall at precision >= 0.99) and token_sort_ratio without the guards, for comparison.
It ends with the setting chosen and the module's constants, which should agree.

With ``--corpus DIR`` (a ``bench.generate`` corpus with its ``_truth.json``) it also runs
``related_suggestions`` on every seed's related list and scores the suggested pairs against the
in-seed truth: planted ``duplicates`` with "file" and "related_positions" are the positives,
``near_misses`` with "file" known negatives, and any other suggested pair is wrong too (the
generator gives every unplanted entry its own article).  Recall per planted kind, wrong
suggestions per near-miss kind, precision per reason, and the time per related list.
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from itertools import combinations
from pathlib import Path

from webapp.formats import headlines
from webapp.formats.duplicates import LinkFields, related_suggestions
from webapp.formats.headlines import HeadlineComparison, compare_headlines, headline_profile
from webapp.formats.seeds import parse

ROOT = Path(__file__).resolve().parent.parent
PAIRS = ROOT / "tests" / "data" / "headline_pairs.tsv"
PRECISION_FLOOR = 0.99
THRESHOLDS = range(70, 100)
OVERLAPS = (0.0, 0.4, 0.5, 0.6, 0.7)
SCORERS: dict[str, Callable[[HeadlineComparison], float]] = {
    "token_sort_ratio": lambda c: c.token_sort,
    "ratio": lambda c: c.ratio,
    "token_set_ratio": lambda c: c.token_set,
    "mean(token_sort, ratio)": lambda c: (c.token_sort + c.ratio) / 2,
}


@dataclass(frozen=True, slots=True)
class Pair:
    label: bool
    title_a: str
    title_b: str
    outlet_a: str
    outlet_b: str
    note: str
    comparison: HeadlineComparison | None  # None when either headline is generic


@dataclass(frozen=True, slots=True)
class Measure:
    true_positives: int
    false_positives: int
    false_negatives: int

    @property
    def precision(self) -> float:
        found = self.true_positives + self.false_positives
        return self.true_positives / found if found else 1.0

    @property
    def recall(self) -> float:
        planted = self.true_positives + self.false_negatives
        return self.true_positives / planted if planted else 1.0

    def __str__(self) -> str:
        return (
            f"P {self.precision:6.1%} R {self.recall:6.1%} "
            f"(fp {self.false_positives}, fn {self.false_negatives})"
        )


def load_pairs(path: str | Path = PAIRS) -> list[Pair]:
    """The labelled pairs of a TSV file, each compared once."""
    with open(path, encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle, delimiter="\t", quoting=csv.QUOTE_NONE))
    pairs = []
    for row in rows:
        first, second = headline_profile(row["title_a"]), headline_profile(row["title_b"])
        comparison = compare_headlines(first, second) if first and second else None
        pairs.append(
            Pair(
                row["label"] == "1",
                row["title_a"],
                row["title_b"],
                row["outlet_a"],
                row["outlet_b"],
                row["note"],
                comparison,
            )
        )
    return pairs


def split(pairs: list[Pair]) -> tuple[list[Pair], list[Pair]]:
    """(calibration, held out): even and odd data lines."""
    return pairs[0::2], pairs[1::2]


def predicted(pair: Pair, scorer: str, threshold: float, overlap: float, guards: bool = True) -> bool:
    c = pair.comparison
    if c is None or (guards and c.blocked_by) or c.overlap < overlap:
        return False
    return round(SCORERS[scorer](c)) >= threshold  # rounded, as the suggestion shows it


def measure(pairs: list[Pair], scorer: str, threshold: float, overlap: float, guards: bool = True) -> Measure:
    found = [predicted(pair, scorer, threshold, overlap, guards) for pair in pairs]
    return Measure(
        sum(f and p.label for f, p in zip(found, pairs, strict=True)),
        sum(f and not p.label for f, p in zip(found, pairs, strict=True)),
        sum(not f and p.label for f, p in zip(found, pairs, strict=True)),
    )


def calibrate(pairs: list[Pair], scorer: str, guards: bool = True) -> tuple[int, float, Measure] | None:
    """The (threshold, overlap floor) with the highest recall at precision >= PRECISION_FLOOR;
    ties go to the stricter setting. None when no setting reaches the floor."""
    best = None
    for overlap in OVERLAPS if guards else (0.0,):
        for threshold in THRESHOLDS:
            result = measure(pairs, scorer, threshold, overlap, guards)
            if (
                result.precision >= PRECISION_FLOOR
                and result.true_positives
                and (best is None or (result.recall, result.precision) >= (best[2].recall, best[2].precision))
            ):
                best = (threshold, overlap, result)
    return best


def labelled_report(pairs: list[Pair]) -> str:
    calibration, held_out = split(pairs)
    lines = [
        f"labelled pairs: {len(pairs)} ({sum(p.label for p in pairs)} same article), "
        f"calibration {len(calibration)}, held out {len(held_out)}",
        "",
    ]
    lines.append(
        "best setting per scorer on the calibration half (recall at precision >= "
        f"{PRECISION_FLOOR:.0%}), and the same setting on the held-out half:"
    )
    for scorer in SCORERS:
        for guards in (True, False) if scorer == "token_sort_ratio" else (True,):
            name = scorer + ("" if guards else ", no guards")
            best = calibrate(calibration, scorer, guards)
            if best is None:
                used = headlines.NEAR_HEADLINE_THRESHOLD
                lines.append(
                    f"  {name:34} precision never reaches {PRECISION_FLOOR:.0%}; at >= {used}: "
                    f"calibration {measure(calibration, scorer, used, 0.0, guards)}; "
                    f"held out {measure(held_out, scorer, used, 0.0, guards)}"
                )
                continue
            threshold, overlap, result = best
            lines.append(
                f"  {name:34} >= {threshold} overlap >= {overlap:.1f}: calibration {result}; "
                f"held out {measure(held_out, scorer, threshold, overlap, guards)}"
            )
    best = calibrate(calibration, "token_sort_ratio")
    overlap = best[1] if best else headlines.MIN_CONTENT_OVERLAP
    lines += [
        "",
        f"token_sort_ratio with the guards, overlap >= {overlap:.1f}:",
        f"  {'threshold':>9}  {'calibration':40}  {'held out':40}  whole",
    ]
    for threshold in THRESHOLDS:
        lines.append(
            f"  {threshold:>9}  {measure(calibration, 'token_sort_ratio', threshold, overlap)!s:40}  "
            f"{measure(held_out, 'token_sort_ratio', threshold, overlap)!s:40}  "
            f"{measure(pairs, 'token_sort_ratio', threshold, overlap)}"
        )
    lines.append("")
    if best:
        lines.append(f"chosen: token_sort_ratio >= {best[0]}, content overlap >= {best[1]:.1f}")
    used = (headlines.NEAR_HEADLINE_THRESHOLD, headlines.MIN_CONTENT_OVERLAP)
    lines.append(
        f"webapp.formats.headlines uses token_sort_ratio >= {used[0]}, content overlap >= {used[1]:.1f}"
        + ("" if best and used == best[:2] else "  (differs from the calibration)")
    )
    for name, part in (("calibration", calibration), ("held out", held_out), ("whole", pairs)):
        lines.append(f"  {name:12} {measure(part, 'token_sort_ratio', *used)}")
    blocked = Counter(p.comparison.blocked_by for p in pairs if p.comparison and p.comparison.blocked_by)
    lines.append(
        "guards that turned pairs away: "
        + ", ".join(f"{k} {v}" for k, v in blocked.most_common())
        + f"; generic (under {headlines.MIN_CONTENT_WORDS} content words) "
        f"{sum(p.comparison is None for p in pairs)}"
    )
    return "\n".join(lines)


def corpus_report(directory: str | Path) -> str:
    """Suggestions on a generated corpus against its in-seed truth."""
    directory = Path(directory)
    truth = json.loads((directory / "_truth.json").read_text(encoding="utf-8"))
    planted = {(g["file"], *g["related_positions"]): g["kind"] for g in truth["duplicates"] if "file" in g}
    near_misses = {
        (g["file"], *g["related_positions"]): g["kind"] for g in truth["near_misses"] if "file" in g
    }
    found: dict[tuple, str] = {}
    seconds, lists, entries, slowest = 0.0, 0, 0, 0.0
    for path in sorted(directory.iterdir()):
        if path.suffix not in (".txt", ".md"):
            continue
        seed = parse(path.read_text(encoding="utf-8"))
        links = [
            LinkFields(i, e.title, e.web_url, e.amp_web_url, e.cdn_amp_web_url)
            for i, e in enumerate(seed.related or ())
        ]
        start = time.perf_counter()
        suggestions = related_suggestions(links)
        took = time.perf_counter() - start
        seconds, lists, entries, slowest = seconds + took, lists + 1, entries + len(links), max(slowest, took)
        for suggestion in suggestions:
            reason = (
                "similar headline" if suggestion.reason.startswith("similar headline") else suggestion.reason
            )
            for first, second in combinations(suggestion.positions, 2):
                found[(path.stem, first, second)] = reason
    lines = [
        f"corpus {directory}: {lists} related lists, {entries} entries; "
        f"related_suggestions {1e3 * seconds / max(lists, 1):.2f} ms per list on average, "
        f"slowest {1e3 * slowest:.2f} ms",
        "",
        f"  {'planted kind':18} {'pairs':>5} {'found':>6} {'recall':>7}  by reason",
    ]
    for kind in sorted(set(planted.values())):
        keys = [key for key, k in planted.items() if k == kind]
        hits = Counter(found[key] for key in keys if key in found)
        lines.append(
            f"  {kind:18} {len(keys):5} {sum(hits.values()):6} {sum(hits.values()) / len(keys):7.1%}  "
            + ", ".join(f"{reason} {n}" for reason, n in sorted(hits.items()))
        )
    hits = sum(key in found for key in planted)
    lines.append(f"  {'all':18} {len(planted):5} {hits:6} {hits / max(len(planted), 1):7.1%}")
    lines += ["", f"  {'near-miss kind':18} {'pairs':>5} {'wrongly suggested':>18}  by reason"]
    for kind in sorted(set(near_misses.values())):
        keys = [key for key, k in near_misses.items() if k == kind]
        wrong = Counter(found[key] for key in keys if key in found)
        lines.append(
            f"  {kind:18} {len(keys):5} {sum(wrong.values()):18}  "
            + ", ".join(f"{reason} {n}" for reason, n in sorted(wrong.items()))
        )
    lines += ["", f"  {'reason':18} {'pairs':>5} {'right':>6} {'precision':>9}"]
    for reason in sorted(set(found.values())):
        keys = [key for key, r in found.items() if r == reason]
        right = sum(key in planted for key in keys)
        lines.append(f"  {reason:18} {len(keys):5} {right:6} {right / len(keys):9.1%}")
    right = sum(key in planted for key in found)
    lines.append(f"  {'all':18} {len(found):5} {right:6} {right / max(len(found), 1):9.1%}")
    wrong = [key for key, reason in found.items() if reason == "similar headline" and key not in planted]
    lines.append(
        f"\nwrong near-headline suggestions: {len(wrong)}" + (" (the first 20:)" if len(wrong) > 20 else "")
    )
    for stem, first, second in wrong[:20]:
        seed = parse(next(directory.glob(stem + ".*")).read_text(encoding="utf-8"))
        lines.append(
            f"  wrong: {seed.related[first].title!r} ~ {seed.related[second].title!r} "
            f"({near_misses.get((stem, first, second), 'unplanted')})"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.headline_threshold", description=__doc__.splitlines()[0]
    )
    parser.add_argument(
        "--pairs", default=str(PAIRS), help="labelled pairs (default tests/data/headline_pairs.tsv)"
    )
    parser.add_argument("--corpus", help="a bench.generate corpus directory to score the suggestions on")
    args = parser.parse_args(argv)
    print(labelled_report(load_pairs(args.pairs)))
    if args.corpus:
        print()
        print(corpus_report(args.corpus))
    return 0


if __name__ == "__main__":
    sys.exit(main())
