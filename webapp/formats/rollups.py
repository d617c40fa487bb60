"""The stats' daily rollups as plain arithmetic: which rollup rows a decision, an import or a merge
adds to, time-to-decision buckets, and a period's figures from the summed rows. No database here.

A rollup row is a key (grain, day, moderator id, status, topics, provider name, provider domain,
heat bucket, time bucket) and a count. Each grain keeps some of those dimensions and sets the others
to ANY: FINE keeps them all (the filtered dashboard sums it), the others keep one or two (the
unfiltered dashboard sums those few rows). Topics are a set written ",3,17,", so a topic filter is
a LIKE '%,3,%' and the articles of a topic are counted once each, whatever their other topics.
"""

from __future__ import annotations

import bisect
import math
from collections import Counter
from collections.abc import Iterable
from datetime import date

from .seeds import HEAT_UNSET, heat_label

TIME_BUCKETS = (  # upper bounds in seconds, and labels short enough for the chart's axis
    (600, "< 10 min"),
    (1800, "10–30 min"),
    (3600, "30–60 min"),
    (7200, "1–2 h"),
    (21600, "2–6 h"),
    (43200, "6–12 h"),
    (86400, "12–24 h"),
    (172800, "1–2 d"),
    (604800, "2–7 d"),
    (None, "> 7 d"),
)
HEAT_BUCKET = 20

FINE, BY_MODERATOR, BY_TIME, BY_HEAT, BY_TOPIC, BY_PROVIDER, BY_PROVIDER_TIME = range(7)
IMPORTS_FINE, IMPORTS = 10, 11
MERGES_FINE, MERGES = 20, 21
ANY_ID, ANY_TEXT, ANY_BUCKET = 0, "", -9

# Fine time buckets: an eighth of a doubling wide (at most 9 % apart), split at the chart's bounds so
# that each lies inside one bar. They only locate a percentile; its exact value is read afterwards.
FINE_BOUNDS = tuple(
    sorted({round(2 ** (k / 8)) for k in range(8 * 27)} | {bound for bound, _ in TIME_BUCKETS if bound})
)
_CHART_BARS = tuple(
    sum(1 for bound, _ in TIME_BUCKETS if bound and bound <= lower) for lower in (0, *FINE_BOUNDS)
)


# The outlets' histograms count half-doublings (four fine buckets): a tenth of the rows, and the
# exact median is still read among a few hundred decision times of that outlet.
OUTLET_BUCKET = 4


def time_bucket(seconds: float) -> int:
    """The fine bucket of a time to decision: bucket b holds [FINE_BOUNDS[b-1], FINE_BOUNDS[b])."""
    return bisect.bisect_right(FINE_BOUNDS, seconds)


def heat_bucket(heat: int) -> int:
    return HEAT_UNSET if heat == HEAT_UNSET else heat // HEAT_BUCKET


def topic_set(topic_ids: Iterable[int]) -> str:
    return "," + "".join(f"{each}," for each in sorted(set(topic_ids))) if topic_ids else ","


def topic_pattern(topic_id: int) -> str:
    return f"%,{topic_id},%"


def _key(grain, day, moderator=ANY_ID, status=ANY_TEXT, topics=ANY_TEXT, name=ANY_TEXT, domain=ANY_TEXT,
         heat=ANY_BUCKET, time=ANY_BUCKET) -> tuple:  # fmt: skip
    return (grain, day, moderator, status, topics, name, domain, heat, time)


def decision_keys(
    day: date,
    moderator_id: int | None,
    status: str,
    topic_ids: list[int],
    provider_name: str,
    provider_domain: str | None,
    heat: int,
    seconds: float,
) -> list[tuple]:
    """The rollup rows one decided article counts in, as it stands."""
    moderator, domain = moderator_id or ANY_ID, provider_domain or ANY_TEXT
    heat, time = heat_bucket(heat), time_bucket(seconds)
    keys = [
        _key(FINE, day, moderator, status, topic_set(topic_ids), provider_name, domain, heat, time),
        _key(BY_MODERATOR, day, moderator, status),
        _key(BY_TIME, day, time=time),
        _key(BY_HEAT, day, status=status, heat=heat),
        _key(BY_PROVIDER, day, status=status, name=provider_name),
        _key(BY_PROVIDER_TIME, day, name=provider_name, time=time // OUTLET_BUCKET),
    ]
    return keys + [_key(BY_TOPIC, day, status=status, topics=topic_set([each])) for each in set(topic_ids)]


def import_keys(day: date, topic_ids: list[int], provider_name: str, provider_domain: str | None) -> list:
    """The rollup rows one article counts in as imported that day."""
    topics, domain = topic_set(topic_ids), provider_domain or ANY_TEXT
    return [_key(IMPORTS_FINE, day, topics=topics, name=provider_name, domain=domain), _key(IMPORTS, day)]


def merge_keys(
    day: date, actor_id: int, topic_ids: list[int], provider_name: str, provider_domain: str | None
) -> list:
    """The rollup rows one merge counts in."""
    topics, domain = topic_set(topic_ids), provider_domain or ANY_TEXT
    return [
        _key(MERGES_FINE, day, actor_id, topics=topics, name=provider_name, domain=domain),
        _key(MERGES, day, actor_id),
    ]


def net_change(removed: Iterable[tuple], added: Iterable[tuple]) -> list[tuple[tuple, int]]:
    """(key, change) for each row whose count changes, in key order (concurrent writers lock alike)."""
    change = Counter(added)
    change.subtract(Counter(removed))
    return sorted((key, count) for key, count in change.items() if count)


def by_topic_id(rows: Iterable[tuple[str, int]]) -> Counter:
    """Counts per topic id from counts per topic set: an article counts once for each of its topics."""
    counts: Counter = Counter()
    for topics, count in rows:
        for each in topics.strip(",").split(","):
            if each:
                counts[int(each)] += count
    return counts


def locate(histogram: Iterable[tuple[int, int]], rank: int) -> tuple[int, int] | None:
    """The (bucket, offset within it) of the rank-th smallest value (from 1), from (bucket, count) rows."""
    counts: Counter = Counter()
    for bucket, count in histogram:
        counts[bucket] += count
    seen = 0
    for bucket, count in sorted(counts.items()):
        if seen + count >= rank:
            return bucket, rank - seen - 1
        seen += count
    return None


def nearest_rank(fraction: float, total: int) -> int:
    """The nearest-rank position of a percentile among `total` values, as the full aggregation takes it."""
    return math.ceil(fraction * total)


def time_chart(histogram: Iterable[tuple[int, int]]) -> list[dict]:
    """The time-to-decision chart's bars from fine-bucket counts."""
    bars = [0] * len(TIME_BUCKETS)
    for bucket, count in histogram:
        bars[_CHART_BARS[bucket]] += count
    return [{"bucket": label, "count": bars[index]} for index, (_, label) in enumerate(TIME_BUCKETS)]


def heat_chart(counts: dict[int, int]) -> list[dict]:
    """The heat-of-approved chart from counts per heat bucket (HEAT_UNSET for "not set")."""
    top = max((key for key in counts if key != HEAT_UNSET), default=9)
    histogram = [{"bucket": heat_label(HEAT_UNSET), "count": counts.get(HEAT_UNSET, 0)}]
    for index in range(max(top, 9) + 1):
        low = index * HEAT_BUCKET
        histogram.append({"bucket": f"{low}–{low + HEAT_BUCKET - 1}", "count": counts.get(index, 0)})
    return histogram


def ranked(counts: dict, tiebreak=lambda key: key) -> list[tuple]:
    """(key, count) by count, largest first, then by `tiebreak`; empty counts left out."""
    return sorted(
        ((key, count) for key, count in counts.items() if count), key=lambda row: (-row[1], tiebreak(row[0]))
    )
