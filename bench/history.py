"""History generator: months of a moderation desk's work, written straight into a database.

    python -m bench.history --database-url URL [--articles 200000] [--events 1000000]
                            [--days 90] [--seed 1] [--end ISO] [--json]

Drops everything in the database first (PostgreSQL: the `public` schema, dropped and
created again; SQLite: the file is deleted), migrates it with `flask_migrate.upgrade`,
then writes with bulk statements (SQLite: Core `insert(Table)` executemany in batches of
10,000; PostgreSQL: `COPY ... FROM STDIN`), not through the app's moderation functions:

- users (15): 12 moderators, 2 leads and `admin`, all with the password `PASSWORD`
  ("history-password"). Each works a UTC shift on set weekdays, some take a turn one
  weekend in four, a third take a week or two of leave, everyone has the odd sick day.
  Rates (relative decisions per staffed hour): maria 1.8, tomasz 1.6 and aiko 1.5 (nights)
  are the heavy ones; james, fatima, lukas, priya, noah and ravi 1.0; sofia 1.0 but joins
  a third into the period; kwame (Mon/Wed/Fri mornings) 0.7 and elena (Tue/Thu
  afternoons) 0.6 are part-time; ravi leaves at 55 % of the period (user disabled).
  Leads hannah 0.3 and omar 0.25 decide a little and do most reopens; admin 0.03.
- topics (40: the 28 of bench/vocabulary.py and 12 more), with a zipf-like popularity;
- articles: imported in 10-minute runs over the period with a daily rhythm (quiet nights,
  busy office hours), weekends at about half a weekday and a slight upward trend. Each
  comes from one of the 300 outlets of bench/generate.py, picked with zipf-like weights
  (the top 25 supply two thirds); 1-3 topics; a category; published_at minutes to hours
  before import; quality from its outlet (4 % none); heat -1 unless set. Its
  `source_text` is a small valid seed (~640 bytes, a real one is ~6 KB; parsed back by the
  tests) and `content_hash` its sha256. Articles touched by merges get 3-6 related links,
  in the seed text too.
- moderation: each article is decided after a log-normal delay counted in staffed hours
  (median 36 staffed minutes), so nights, weekends and slow outlets stretch it: from
  import to decision, median ~1 h, p90 ~12 h, p99 ~2 days. The decider is someone on duty
  then, picked by rate. The 25 biggest outlets and 85 % of the others are approved 70-86 %
  of the time; 12 % of the long tail are slow (2-3.5 x the delay) and approved 25-45 %,
  3 % are near-spam (3-12 %). About 69 % of decided articles end approved; 70 % of
  rejections give a reason. Articles younger than two days are about half still pending
  (the backlog), and ~1.4 % of older ones were never decided (stale). Claims are not
  events and are not written.
- audit events, exactly `--events` of them: one approve/reject per decision, then the rest
  shared out as heat changes (mostly on approved articles, hot stories getting many),
  reopen + re-decide pairs (mostly by the leads; rejected articles twice as often),
  merges and unmerges of related links with their merge maps, undos (of a decision, then
  the corrected decision seconds later; of a heat change; of a merge) and absorbs of a
  newer duplicate's (empty) related list. At the default sizes: approve/reject 25.6 %,
  heat 59.6 %, merge 4.7 %, unmerge 1.5 %, reopen 4.0 %, undo 4.0 %, absorb 0.7 %. Each
  event's `before`/`after` hold status, heat, decided_by_id, decided_at (ISO),
  reject_reason and version as webapp/services/changes.py writes them, plus "merges",
  "absorbed" or "undoes"; a decision's `created_at` is the article's `decided_at`. Every
  article's final columns (status, heat, decided_by_id, decided_at, reject_reason,
  version, updated_at) are those its last event left. Event ids follow created_at.

Not written: claims, export runs, duplicate suggestions and the story index (keys and
matches). PostgreSQL is VACUUM ANALYZEd afterwards (its autovacuum would get there
anyway); SQLite is left without ANALYZE, as the app leaves it.

The same --seed, sizes and --end give the same rows; without --end the history ends now
(to the minute), so "the last 30 days" hold a month of it. At 200,000 articles and
1,000,000 events it takes about a minute on SQLite (a 900 MB file) and on PostgreSQL
(830 MB) alike, on two cores: 7 s simulating, the rest writing. `write_history(...)` is
the same from Python: it returns the counts, the user names and the password;
`describe(url)` reads back what a database holds, so a benchmark can decide to reuse it.
Exit status: 0 written, 2 could not run (e.g. more events than the days can hold).
"""

from __future__ import annotations

import argparse
import bisect
import hashlib
import itertools
import json
import math
import random
import re
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from flask_migrate import upgrade
from sqlalchemy import JSON, func, insert, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError

from webapp import create_app
from webapp.models import (
    APPROVED,
    PENDING,
    REJECTED,
    Article,
    AuditEvent,
    RelatedLink,
    SeedData,
    Topic,
    User,
    UTCDateTime,
    article_topics,
    db,
)
from webapp.services import rollups

from .generate import OUTLETS, yaml_double_quoted
from .vocabulary import (
    ACTIONS,
    CATEGORIES,
    COMPANY_ENDS,
    COMPANY_KINDS,
    COMPANY_STARTS,
    HEADLINES,
    MONTHS,
    PLACES,
    TOPICS,
)

PASSWORD = "history-password"
# generate_password_hash(PASSWORD), computed once: a fixed salt keeps the users' rows the same each run.
PASSWORD_HASH = (
    "scrypt:32768:8:1$rJd5aByHCwrBZ99Z$54cdc340b06f3e7ea275f3b46b2e667bfbf49f638db8b6087aef97f8bc7bbf936119c49bc9"
    "81a47bccfa688599b71885803d38e4b3e0ca6842c37ffbbdab47b2"
)
LEAD = "hannah"
BATCH = 10_000
SECOND = 1_000_000  # times are whole microseconds since the epoch
HOUR = 3600 * SECOND
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

EXTRA_TOPICS = {
    "Media": ["streaming deals", "local newspapers"],
    "Gaming": ["loot boxes", "esports arenas"],
    "Biotech": ["gene therapies", "lab-grown meat"],
    "Quantum Computing": ["quantum chips", "quantum-safe encryption"],
    "Smart Cities": ["smart streetlights", "traffic sensors"],
    "Water": ["water meters", "desalination plants"],
    "Insurance": ["flood insurance", "usage-based car cover"],
    "Mining": ["lithium mines", "deep-sea mining"],
    "Shipping": ["container ports", "green shipping lanes"],
    "Startups": ["seed funds", "startup visas"],
    "Open Source": ["open-source licences", "public code repositories"],
    "Wearables": ["smart watches", "fitness trackers"],
}
THINGS = {name: things for name, (_, things) in TOPICS.items()} | EXTRA_TOPICS
REJECT_REASONS = [
    "Duplicate of an approved story",
    "Off topic",
    "Paywalled",
    "Press release",
    "Low quality source",
    "Clickbait headline",
    "Outdated",
    "Not news: opinion piece",
]
WEEKDAY_IMPORTS = [1.0, 1.05, 1.05, 1.0, 0.95, 0.55, 0.45]
HOURLY_IMPORTS = [
    0.3,
    0.25,
    0.2,
    0.2,
    0.25,
    0.4,
    0.7,
    1.0,
    1.25,
    1.35,
    1.35,
    1.3,
    1.3,
    1.3,
    1.3,
    1.25,
    1.2,
    1.1,
    1.0,
    0.9,
    0.8,
    0.65,
    0.5,
    0.4,
]
# Shares of the events beyond one decision per decided article (heat takes what is left).
REOPEN_SHARE, UNDO_DECISION_SHARE, MERGE_SHARE, ABSORB_SHARE = 0.10, 0.05, 0.09, 0.01
UNDO_HEAT, UNDO_MERGE = 0.03, 0.05  # chance that a heat change or a merge is undone at once
BACKLOG_HOURS = 48


@dataclass(frozen=True)
class Person:
    """A user, and when and how fast they moderate (rates are relative, per staffed hour)."""

    username: str
    role: str
    rate: float
    days: str  # weekdays worked, Monday = "0"
    start_hour: int  # UTC
    hours: int
    weekend_turn: int | None = None  # also works every fourth weekend, on this turn
    joins: float | None = None  # share of the period after which they start; None: long before
    leaves: float | None = None  # share of the period after which they stop (and are disabled)
    strictness: float = 0.0  # added to the chance that they reject


STAFF = (
    Person("maria", "moderator", 1.8, "01234", 7, 8, weekend_turn=0, strictness=0.03),
    Person("tomasz", "moderator", 1.6, "01234", 12, 8, weekend_turn=1),
    Person("aiko", "moderator", 1.5, "60123", 0, 8, strictness=-0.02),
    Person("james", "moderator", 1.0, "01234", 6, 8, weekend_turn=2),
    Person("fatima", "moderator", 1.0, "01234", 8, 8, weekend_turn=3, strictness=0.05),
    Person("lukas", "moderator", 1.0, "01234", 10, 8, weekend_turn=0),
    Person("priya", "moderator", 1.0, "01234", 14, 8, weekend_turn=2),
    Person("noah", "moderator", 1.0, "01234", 16, 8, weekend_turn=3, strictness=-0.03),
    Person("sofia", "moderator", 1.0, "01234", 9, 8, joins=0.33),
    Person("kwame", "moderator", 0.7, "024", 9, 4),
    Person("elena", "moderator", 0.6, "13", 13, 6),
    Person("ravi", "moderator", 1.0, "01234", 8, 8, weekend_turn=1, leaves=0.55),
    Person("hannah", "lead", 0.3, "01234", 8, 9),
    Person("omar", "lead", 0.25, "01234", 11, 9),
    Person("admin", "admin", 0.03, "01234", 9, 8),
)


@dataclass
class Outlet:
    name: str
    domain: str
    host: str
    approve: float  # chance a decision approves
    slow: float  # factor on the decision delay
    stale: float  # chance an article is never decided
    quality: int


@dataclass
class _Article:
    id: int
    imported: int
    outlet: Outlet
    verdict: str | None = None  # the first decision, or None: stays pending
    decider: int | None = None
    decide_work: float | None = None
    links: int = 0  # related links (merge articles only)
    absorbs: list[int] = field(default_factory=list)
    duplicate_of: int | None = None
    # Final state, as its last event left it.
    state: list = field(default_factory=lambda: [PENDING, -1, None, None, None, 1])
    merges: dict | None = None
    updated: int = 0
    events: list = field(default_factory=list)  # its events, oldest first


class _Clock:
    """Hour slots from `start`: who is on duty in each, and "staffed time" (an hour of average
    staffing counts 1, an unstaffed hour 0), in which the decision delays are measured."""

    def __init__(self, start: int, days: int, users: dict[str, int], rng: random.Random):
        self.start, self.slots = start, days * 24
        start_day = _datetime(start)
        off = _days_off(rng, days)
        self.on_duty, self.leads, capacity = [], [], []
        for slot in range(self.slots):
            when = start_day + timedelta(hours=slot)
            day = (when - start_day).days
            people = [p for p in STAFF if _works(p, when, slot / self.slots, day in off[p.username])]
            ids = [users[p.username] for p in people]
            cum, total = [], 0.0
            for person in people:
                total += person.rate
                cum.append(total)
            self.on_duty.append((ids, cum))
            self.leads.append([users[p.username] for p in people if p.role == "lead"])
            capacity.append(total)
        staffed = [c for c in capacity if c]
        if not staffed:
            raise ValueError("nobody is ever on duty")
        mean = sum(staffed) / len(staffed)
        # The staffed slot nearest each slot, earlier ones first.
        self.staffed, last = [], None
        for slot in range(self.slots):
            last = slot if capacity[slot] else last
            self.staffed.append(last)
        first = next(slot for slot in range(self.slots) if capacity[slot])
        self.staffed = [first if slot is None else slot for slot in self.staffed]
        self.capacity = [c / mean for c in capacity]
        self.cum = [0.0]
        for c in self.capacity:
            self.cum.append(self.cum[-1] + c)
        self.end_work = self.cum[-1]
        self.end = start + self.slots * HOUR

    def work(self, t: int) -> float:
        x = (t - self.start) / HOUR
        slot = min(max(int(x), 0), self.slots - 1)
        return self.cum[slot] + self.capacity[slot] * (x - slot)

    def real(self, work: float) -> int:
        slot = min(bisect.bisect_right(self.cum, work) - 1, self.slots - 1)
        while slot > 0 and not self.capacity[slot]:
            slot -= 1
        fraction = (work - self.cum[slot]) / self.capacity[slot] if self.capacity[slot] else 0.0
        return self.start + int((slot + min(max(fraction, 0.0), 1.0)) * HOUR)

    def actor(self, rng: random.Random, t: int, lead_first: float = 0.0) -> int:
        """Someone on duty at t (at a slot's very edge: in the nearest staffed slot), picked by rate."""
        slot = self.staffed[min(max((t - self.start) // HOUR, 0), self.slots - 1)]
        leads = self.leads[slot]
        if leads and lead_first and rng.random() < lead_first:
            return rng.choice(leads)
        ids, cum = self.on_duty[slot]
        return rng.choices(ids, cum_weights=cum)[0]


def _works(person: Person, when: datetime, share: float, day_off: bool) -> bool:
    if (
        day_off
        or (person.joins is not None and share < person.joins)
        or (person.leaves is not None and share >= person.leaves)
    ):
        return False
    if not person.start_hour <= when.hour < person.start_hour + person.hours:
        return False
    weekday = when.weekday()
    if str(weekday) in person.days:
        return True
    return (
        weekday >= 5
        and person.weekend_turn is not None
        and (when.toordinal() // 7) % 4 == person.weekend_turn
    )


def _days_off(rng: random.Random, days: int) -> dict[str, set[int]]:
    """Sick days (3 %) for everyone, and a week or two of leave for a third of the staff."""
    off = {}
    for person in STAFF:
        taken = {day for day in range(days) if rng.random() < 0.03}
        if rng.random() < 0.33:
            first = rng.randrange(days)
            taken |= set(range(first, first + rng.randint(5, 12)))
        off[person.username] = taken
    return off


def _datetime(us: int) -> datetime:
    return EPOCH + timedelta(microseconds=us)


def _micros(when: datetime) -> int:
    delta = when - EPOCH
    return (delta.days * 86400 + delta.seconds) * SECOND + delta.microseconds


def _iso(us: int | None) -> str | None:
    return None if us is None else _datetime(us).isoformat()


def _lognormal(rng: random.Random, median: float, sigma: float) -> float:
    return median * math.exp(rng.gauss(0.0, sigma))


# --- The simulation: articles, their decisions, then every article's events in time order.


class _History:
    def __init__(self, articles: int, events: int, days: int, seed: int, end: int):
        if articles < 1 or days < 1 or events < 0:
            raise ValueError("need at least one article and one day, and no negative number of events")
        self.rng = random.Random(seed)
        self.n, self.target, self.days = articles, events, days
        self.start = end - days * 24 * HOUR
        self.users = {person.username: index for index, person in enumerate(STAFF, start=1)}
        self.people = {self.users[p.username]: p for p in STAFF}
        self.clock = _Clock(self.start, days, self.users, self.rng)
        self.topics = list(THINGS)
        self.outlets = self._outlets()
        self.events: list[tuple] = []
        self.articles: list[_Article] = []

    def _outlets(self) -> list[Outlet]:
        rng = self.rng
        chosen = list(OUTLETS)
        rng.shuffle(chosen)
        outlets = []
        for rank, outlet in enumerate(chosen):
            kind = rng.random() if rank >= 25 else 1.0
            if kind < 0.03:
                approve, slow, stale, quality = (
                    rng.uniform(0.03, 0.12),
                    rng.uniform(1.5, 2.5),
                    0.06,
                    rng.randint(2, 8),
                )
            elif kind < 0.15:
                approve, slow, stale, quality = (
                    rng.uniform(0.25, 0.45),
                    rng.uniform(2.0, 3.5),
                    0.04,
                    rng.randint(6, 14),
                )
            else:
                approve, slow, stale, quality = (
                    rng.uniform(0.70, 0.86),
                    rng.uniform(0.8, 1.2),
                    0.012,
                    rng.randint(12, 24),
                )
            outlets.append(Outlet(outlet.name, outlet.domain, outlet.host, approve, slow, stale, quality))
        self.outlet_weights = [1 / (rank + 1) ** 1.07 for rank in range(len(outlets))]
        self.outlet_cum = list(itertools.accumulate(self.outlet_weights))
        return outlets

    def run(self) -> None:
        self._import_and_decide()
        decisions = sum(1 for a in self.articles if a.verdict)
        extra = self.target - decisions
        if extra < 0:  # fewer events than decisions asked for: the rest stay pending
            decided = [a for a in self.articles if a.verdict]
            for article in self.rng.sample(decided, -extra):
                article.verdict = article.decider = article.decide_work = None
            extra = 0
        self._plan(extra)
        for article in self.articles:
            self._simulate(article)
        self._settle()

    def _import_and_decide(self) -> None:
        rng, clock = self.rng, self.clock
        weights = []
        for slot in range(clock.slots):
            when = _datetime(self.start + slot * HOUR)
            weights.append(
                WEEKDAY_IMPORTS[when.weekday()] * HOURLY_IMPORTS[when.hour] * (1 + 0.15 * slot / clock.slots)
            )
        slots = sorted(rng.choices(range(clock.slots), weights=weights, k=self.n))
        outlets = rng.choices(self.outlets, cum_weights=self.outlet_cum, k=self.n)
        times = sorted(
            self.start + slot * HOUR + rng.randrange(6) * 600 * SECOND + rng.randrange(20 * SECOND)
            for slot in slots
        )
        for index, (imported, outlet) in enumerate(zip(times, outlets, strict=True), start=1):
            article = _Article(index, imported, outlet, updated=imported)
            self.articles.append(article)
            age_hours = (clock.end - imported) / HOUR
            if age_hours < BACKLOG_HOURS and rng.random() < 0.15 + 0.75 * (1 - age_hours / BACKLOG_HOURS):
                continue
            if rng.random() < outlet.stale:
                continue
            decide = clock.work(imported) + _lognormal(rng, 0.6, 1.2) * outlet.slow
            if decide >= clock.end_work:
                continue
            article.decide_work = decide
            article.decider = clock.actor(rng, clock.real(decide))
            article.verdict = self._verdict(outlet, article.decider)

    def _verdict(self, outlet: Outlet, actor: int, previous: str | None = None) -> str:
        if previous is not None:
            return previous if self.rng.random() < 0.4 else (REJECTED if previous == APPROVED else APPROVED)
        approve = outlet.approve - self.people[actor].strictness
        return APPROVED if self.rng.random() < approve else REJECTED

    def _plan(self, extra: int) -> None:
        """Share the events beyond the first decisions out between the articles."""
        rng, articles = self.rng, self.articles
        decided = [a for a in articles if a.verdict]
        self.reopens = Counter()
        if decided:
            weights = [2.0 if a.verdict == REJECTED else 1.0 for a in decided]
            for article in rng.choices(decided, weights=weights, k=round(extra * REOPEN_SHARE / 2)):
                self.reopens[article.id] += 1
        self.undo_decision = min(
            1.0, extra * UNDO_DECISION_SHARE / 2 / max(1, len(decided) + sum(self.reopens.values()))
        )
        merging = round(extra * MERGE_SHARE / 2.2)
        for article in rng.sample(articles, min(merging, len(articles))):
            article.links = rng.randint(3, 6)
        absorbs = round(extra * ABSORB_SHARE)
        for _ in range(absorbs):
            article = rng.choice(articles)
            source = article.id + rng.randint(1, 200)
            if (
                source <= self.n
                and not articles[source - 1].links
                and articles[source - 1].duplicate_of is None
            ):
                articles[source - 1].duplicate_of = article.id
                article.absorbs.append(source)
        undo_events = len(decided) * self.undo_decision * 2 + merging * 1.6 * UNDO_MERGE
        others = extra * REOPEN_SHARE + undo_events + merging * 2.2 + absorbs
        heat = max(0, int((extra - others) / (1 + UNDO_HEAT) * 0.97))
        self.heat_weights = [
            (3.0 if a.verdict == APPROVED else 0.25 if a.verdict == REJECTED else 0.4)
            * (0.2 + rng.paretovariate(1.6))
            for a in articles
        ]
        self.heat_cum = list(itertools.accumulate(self.heat_weights))
        self.heats = (
            Counter(a.id for a in rng.choices(articles, cum_weights=self.heat_cum, k=heat))
            if heat
            else Counter()
        )

    def _simulate(self, article: _Article) -> None:
        """Lay out the article's operations in staffed time, then play them in order."""
        rng, clock = self.rng, self.clock
        start, end = clock.work(article.imported), clock.end_work
        decided = article.decide_work
        ops = []  # (staffed time, order, kind, detail)
        if decided is not None:
            ops.append((decided, 0, "decide", None))
        for _ in range(self.heats[article.id]):
            if decided is not None and rng.random() < (0.35 if article.verdict == APPROVED else 0.8):
                when = rng.uniform(start, decided)
            elif decided is not None:
                when = decided + _lognormal(rng, 3.0, 1.3)
            else:
                when = rng.uniform(start, end)
            ops.append((when, 1, "heat", None))
        if decided is not None:
            when = decided
            for _ in range(self.reopens[article.id]):
                when += _lognormal(rng, 4.0, 1.2)
                ops.append((when, 2, "reopen", None))
                when += _lognormal(rng, 0.25, 1.0)
                ops.append((when, 3, "redecide", None))
        if article.links:
            article.merges = {str(position): None for position in range(article.links)}
            when = (
                rng.uniform(start, decided)
                if decided is not None and rng.random() < 0.6
                else (decided or start) + _lognormal(rng, 1.0, 1.2)
            )
            for _ in range(1 + (rng.random() < 0.35) + (rng.random() < 0.1)):
                ops.append((when, 4, "merge", None))
                if rng.random() < 0.35:
                    ops.append((when + _lognormal(rng, 2.0, 1.2), 5, "unmerge", None))
                when += _lognormal(rng, 1.0, 1.2)
        for source in article.absorbs:
            ready = max(start, clock.work(self.articles[source - 1].imported))
            ops.append((ready + _lognormal(rng, 0.5, 1.0), 6, "absorb", source))
        ops.sort(key=lambda op: (op[0], op[1]))
        for when, _, kind, detail in ops:
            if when >= end:
                continue
            t = max(clock.real(when), article.updated + rng.randint(1, 30) * SECOND)
            if t > clock.end:
                continue
            getattr(self, "_op_" + kind)(article, t, detail)

    # One method per operation; each emits one or more events at t or a few seconds later.

    def _op_decide(self, article: _Article, t: int, _detail) -> None:
        self._decision(article, t, article.decider, article.verdict)

    def _op_redecide(self, article: _Article, t: int, _detail) -> None:
        if article.state[0] != PENDING:
            return
        actor = self.clock.actor(self.rng, t)
        previous = self._last_verdict(article)
        self._decision(article, t, actor, self._verdict(article.outlet, actor, previous))

    def _decision(self, article: _Article, t: int, actor: int, verdict: str) -> None:
        rng = self.rng
        event = self._emit(
            article,
            t,
            actor,
            "approve" if verdict == APPROVED else "reject",
            self._verdict_changes(verdict, actor, t),
        )
        if rng.random() < self.undo_decision:
            undone_at, again_at = t + rng.randint(2, 9) * SECOND, t + rng.randint(15, 70) * SECOND
            if again_at <= self.clock.end:
                self._undo(article, undone_at, event)
                verdict = REJECTED if verdict == APPROVED else APPROVED
                self._emit(
                    article,
                    again_at,
                    actor,
                    "approve" if verdict == APPROVED else "reject",
                    self._verdict_changes(verdict, actor, again_at),
                )

    def _verdict_changes(self, verdict: str, actor: int, t: int) -> dict:
        reason = self.rng.choice(REJECT_REASONS) if verdict == REJECTED and self.rng.random() < 0.7 else None
        return {0: verdict, 2: actor, 3: t, 4: reason}

    def _last_verdict(self, article: _Article) -> str | None:
        for event in reversed(article.events):
            if event[4] in ("approve", "reject"):
                return APPROVED if event[4] == "approve" else REJECTED
        return None

    def _op_reopen(self, article: _Article, t: int, _detail) -> None:
        if article.state[0] == PENDING:
            return
        actor = self.clock.actor(self.rng, t, lead_first=0.6)
        self._emit(article, t, actor, "reopen", {0: PENDING, 2: None, 3: None, 4: None})

    def _op_heat(self, article: _Article, t: int, _detail=None, undoable: bool = True) -> None:
        rng = self.rng
        heat = article.state[1]
        value = int(_lognormal(rng, 40, 0.7)) if heat < 0 else heat + rng.choice((-1, 1)) * rng.randint(5, 40)
        value = min(max(value, 0), 200)
        if value == heat:
            value = heat + 1 if heat < 200 else heat - 1
        actor = self.clock.actor(rng, t)
        event = self._emit(article, t, actor, "heat", {1: value})
        if undoable and rng.random() < UNDO_HEAT and t + 9 * SECOND <= self.clock.end:
            self._undo(article, t + rng.randint(2, 9) * SECOND, event)

    def _op_merge(self, article: _Article, t: int, _detail) -> None:
        rng, merges = self.rng, article.merges
        visible = [int(position) for position, target in merges.items() if target is None]
        if len(visible) < 2:
            return
        chosen = sorted(rng.sample(visible, rng.choice((2, 2, 2, 3)) if len(visible) > 2 else 2))
        canonical = rng.choice(chosen)
        after = dict(merges)
        for position, target in merges.items():
            if int(position) in chosen or target in chosen:
                after[position] = None if int(position) == canonical else canonical
        actor = self.clock.actor(rng, t)
        event = self._emit(article, t, actor, "merge", {}, {"merges": merges}, {"merges": after})
        article.merges = after
        if rng.random() < UNDO_MERGE and t + 9 * SECOND <= self.clock.end:
            self._undo(article, t + rng.randint(2, 9) * SECOND, event)

    def _op_unmerge(self, article: _Article, t: int, _detail) -> None:
        merges = article.merges
        canonicals = sorted({target for target in merges.values() if target is not None})
        if not canonicals:
            return
        canonical = self.rng.choice(canonicals)
        after = {position: None if target == canonical else target for position, target in merges.items()}
        self._emit(
            article, t, self.clock.actor(self.rng, t), "unmerge", {}, {"merges": merges}, {"merges": after}
        )
        article.merges = after

    def _op_absorb(self, article: _Article, t: int, source: int) -> None:
        if t < self.articles[source - 1].imported:
            return
        self._emit(
            article,
            t,
            self.clock.actor(self.rng, t),
            "absorb",
            {},
            {"absorbed": None},
            {"absorbed": {"from": source}},
        )

    def _undo(self, article: _Article, t: int, event: tuple) -> None:
        """Undo `event` (the article's last), by its actor, as services/undo.py does."""
        before, before_extra, after_extra = event[5], event[7], event[8]
        changes = {index: before[index] for index in range(5)}
        extra_before = extra_after = None
        if before_extra and "merges" in before_extra:
            extra_before, extra_after = {"merges": after_extra["merges"]}, {"merges": before_extra["merges"]}
            article.merges = before_extra["merges"]
        self._emit(article, t, event[3], "undo", changes, extra_before, extra_after, undoes=event[1])

    def _emit(
        self,
        article: _Article,
        t: int,
        actor: int,
        action: str,
        changes: dict,
        before_extra: dict | None = None,
        after_extra: dict | None = None,
        undoes: int | None = None,
    ) -> tuple:
        state = article.state
        before = tuple(state)
        for index, value in changes.items():
            state[index] = value
        state[5] += 1
        event = (
            t,
            len(self.events),
            article.id,
            actor,
            action,
            before,
            tuple(state),
            before_extra,
            after_extra,
            undoes,
        )
        self.events.append(event)
        article.events.append(event)
        article.updated = t
        return event

    def _settle(self) -> None:
        """Make the total exactly the target: more heat changes after an article's last event, or fewer."""
        rng, clock = self.rng, self.clock
        missing = self.target - len(self.events)
        attempts = 0
        while missing > 0:
            attempts += 1
            if attempts > 50 * self.target + 1000:
                raise ValueError(
                    f"could not place {missing:,} more events: "
                    f"too many for {self.n:,} articles in {self.days} days"
                )
            article = rng.choices(self.articles, cum_weights=self.heat_cum)[0]
            last = clock.work(article.updated)
            if last >= clock.end_work - 0.01:  # nobody on duty after its last event
                continue
            when = last + _lognormal(rng, 2.0, 1.2)
            if when >= clock.end_work:
                when = rng.uniform(last, clock.end_work)
            t = max(clock.real(when), article.updated + rng.randint(1, 30) * SECOND)
            if t > clock.end:
                continue
            self._op_heat(article, t, undoable=False)
            missing -= 1
        if missing < 0:
            self._trim(-missing)

    def _trim(self, count: int) -> None:
        """Take away `count` events that are the last of their article: heat changes first, then any."""
        dropped = set()
        for kinds in (("heat",), None):
            for article in sorted(self.articles, key=lambda a: -len(a.events)):
                while count and article.events and (kinds is None or article.events[-1][4] in kinds):
                    event = article.events.pop()
                    dropped.add(event[1])
                    article.state = list(event[5])
                    if event[7] and "merges" in event[7]:
                        article.merges = event[7]["merges"]
                    article.updated = article.events[-1][0] if article.events else article.imported
                    count -= 1
        self.events = [event for event in self.events if event[1] not in dropped]


# --- Rows.


def _headline(rng: random.Random, topic: str) -> str:
    thing = rng.choice(THINGS[topic])
    act, acts, noun = (part.format(thing) for part in rng.choice(ACTIONS))
    actor = rng.choice(COMPANY_STARTS) + rng.choice(COMPANY_ENDS) + rng.choice(COMPANY_KINDS)
    return rng.choice(HEADLINES).format(
        actor=actor,
        actor_s=actor + "’s",
        act=act,
        acts=acts,
        noun=noun,
        place=rng.choice(PLACES),
        month=rng.choice(MONTHS),
        n=rng.randint(3, 9),
    )


def _slug(title: str) -> str:
    return _NOT_SLUG.sub("-", title.lower()).strip("-")[:80]


_NOT_SLUG = re.compile(r"[^a-z0-9]+")


def _stamp(us: int) -> str:
    return _datetime(us).strftime("%Y-%m-%dT%H:%M:%SZ")


def _seed_text(fields: dict, topics: list[str], related: list[dict]) -> str:
    lines = [
        "---",
        f"category: {fields['category']}",
        f"title: {yaml_double_quoted(fields['title'])}",
        f"publishedDateTime: {_stamp(fields['published'])}",
        f"webUrl: {yaml_double_quoted(fields['web_url'])}",
        "type: article",
    ]
    if fields["quality"] is not None:
        lines.append(f"quality: {fields['quality']}")
    lines += [
        "heat: -1",
        "published: false",
        "",
        "provider:",
        f"  name: {fields['provider_name']}",
        f"  domain: {fields['provider_domain']}",
        "",
        "topics:",
    ]
    lines += [f"  - {name}" for name in topics]
    if related:
        lines += ["", "related:"]
        for entry in related:
            lines += [
                f"  - title: {yaml_double_quoted(entry['title'])}",
                f"    publishedDateTime: {_stamp(entry['published'])}",
                f"    webUrl: {yaml_double_quoted(entry['web_url'])}",
                f"    quality: {entry['quality']}",
                "    provider:",
                f"      name: {entry['provider_name']}",
                f"      domain: {entry['provider_domain']}",
            ]
    return "\n".join(lines + ["---", ""]) + "\n"


ARTICLE_KEYS = [
    "category",
    "title",
    "publishedDateTime",
    "webUrl",
    "type",
    "quality",
    "heat",
    "published",
    "provider",
    "topics",
]
RELATED_KEYS = ["title", "publishedDateTime", "webUrl", "quality", "provider"]


class _Rows:
    """The rows of every table, built from a finished simulation (its random draws come after it)."""

    def __init__(self, history: _History, password_hash: str):
        self.history, self.password_hash = history, password_hash
        self.rng = history.rng
        self.topic_cum = list(
            itertools.accumulate(1 / (rank + 1) ** 0.9 for rank in range(len(history.topics)))
        )
        self.article_topics: list[dict] = []
        self.related_links: list[dict] = []

    def users(self) -> list[dict]:
        history, rows = self.history, []
        for person in STAFF:
            joined = (
                history.start + int(person.joins * history.days * 24 * HOUR)
                if person.joins is not None
                else history.start - self.rng.randint(30, 400) * 24 * HOUR
            )
            rows.append(
                {
                    "id": history.users[person.username],
                    "username": person.username,
                    "password_hash": self.password_hash,
                    "role": person.role,
                    "active": person.leaves is None,
                    "created_at": _datetime(joined),
                    "session_token": f"{self.rng.getrandbits(128):032x}",
                }
            )
        return rows

    def topics(self) -> list[dict]:
        return [{"id": index, "name": name} for index, name in enumerate(self.history.topics, start=1)]

    def articles(self):
        history, rng = self.history, self.rng
        topic_ids = {name: index for index, name in enumerate(history.topics, start=1)}
        identities = set()
        link_id = 0
        for article in history.articles:
            outlet = article.outlet
            count = rng.choices((1, 2, 3), weights=(0.45, 0.4, 0.15))[0]
            topics = []
            while len(topics) < count:
                name = rng.choices(history.topics, cum_weights=self.topic_cum)[0]
                if name not in topics:
                    topics.append(name)
            title = _headline(rng, topics[0])
            identity = f"{article.id % 1000:03d}_{rng.getrandbits(64):016x}"
            while identity in identities:
                identity = f"{article.id % 1000:03d}_{rng.getrandbits(64):016x}"
            identities.add(identity)
            published = article.imported - int(_lognormal(rng, 2.5, 1.0) * HOUR)
            published -= published % SECOND
            quality = None if rng.random() < 0.04 else max(0, outlet.quality + int(rng.gauss(0, 4)))
            fields = {
                "category": rng.choice(CATEGORIES),
                "title": title,
                "published": published,
                "quality": quality,
                "web_url": f"https://{outlet.host}/news/{_slug(title)}-{article.id}/",
                "provider_name": outlet.name,
                "provider_domain": outlet.domain,
            }
            related = []
            for position in range(article.links):
                other = rng.choices(history.outlets, cum_weights=history.outlet_cum)[0]
                other_title = title if rng.random() < 0.5 else _headline(rng, topics[0])
                link_id += 1
                related.append(
                    {
                        "id": link_id,
                        "position": position,
                        "title": other_title,
                        "published": published - rng.randrange(48 * HOUR) // SECOND * SECOND,
                        "web_url": f"https://{other.host}/news/{_slug(other_title)}-{article.id}-{position}/",
                        "quality": other.quality,
                        "provider_name": other.name,
                        "provider_domain": other.domain,
                    }
                )
            self._children(article, topics, topic_ids, related)
            source = _seed_text(fields, topics, related)
            status, heat, decided_by, decided_at, reason, version = article.state
            yield {
                "id": article.id,
                "identity": identity,
                "source_name": identity + ".txt",
                "content_hash": hashlib.sha256(source.encode()).hexdigest(),
                "source_text": source,
                "category": fields["category"],
                "title": title,
                "excerpt": None,
                "published_at": _datetime(published),
                "original_url": None,
                "web_url": fields["web_url"],
                "amp_web_url": None,
                "cdn_amp_web_url": None,
                "type": "article",
                "quality": quality,
                "heat": heat,
                "seed_published": False,
                "provider_name": outlet.name,
                "provider_domain": outlet.domain,
                "provider_extra": None,
                "images": None,
                "secured": None,
                "extra": None,
                "key_order": [key for key in ARTICLE_KEYS if quality is not None or key != "quality"]
                + (["related"] if related else []),
                "body": "",
                "related_count": sum(
                    1 for entry in related if not (article.merges or {}).get(str(entry["position"]))
                ),
                "suggestion_count": 0,
                "duplicate_of_id": article.duplicate_of,
                "status": status,
                "decided_by_id": decided_by,
                "decided_at": None if decided_at is None else _datetime(decided_at),
                "reject_reason": reason,
                "version": version,
                "imported_at": _datetime(article.imported),
                "updated_at": _datetime(article.updated),
            }

    def _children(self, article: _Article, topics: list[str], topic_ids: dict, related: list[dict]) -> None:
        self.article_topics += [
            {"article_id": article.id, "topic_id": topic_ids[name], "position": position}
            for position, name in enumerate(topics)
        ]
        id_at = {entry["position"]: entry["id"] for entry in related}
        for entry in related:
            target = article.merges.get(str(entry["position"])) if article.merges else None
            self.related_links.append(
                {
                    "id": entry["id"],
                    "article_id": article.id,
                    "position": entry["position"],
                    "title": entry["title"],
                    "excerpt": None,
                    "published_at": _datetime(entry["published"]),
                    "web_url": entry["web_url"],
                    "amp_web_url": None,
                    "cdn_amp_web_url": None,
                    "type": None,
                    "quality": entry["quality"],
                    "provider_name": entry["provider_name"],
                    "provider_domain": entry["provider_domain"],
                    "provider_extra": None,
                    "images": None,
                    "extra": None,
                    "key_order": RELATED_KEYS,
                    "merged_into_id": None if target is None else id_at[target],
                    "source_article_id": None,
                }
            )

    def audit_events(self):
        events = sorted(self.history.events)
        id_of = {event[1]: index for index, event in enumerate(events, start=1)}
        for index, (
            t,
            _,
            article_id,
            actor,
            action,
            before,
            after,
            before_extra,
            after_extra,
            undoes,
        ) in enumerate(events, start=1):
            before_json, after_json = _state_json(before), _state_json(after)
            if before_extra:
                before_json.update(before_extra)
            if after_extra:
                after_json.update(after_extra)
            if undoes is not None:
                after_json["undoes"] = id_of[undoes]
            yield {
                "id": index,
                "created_at": _datetime(t),
                "actor_id": actor,
                "action": action,
                "article_id": article_id,
                "before": before_json,
                "after": after_json,
            }


def _state_json(state: tuple) -> dict:
    status, heat, decided_by, decided_at, reason, version = state
    return {
        "status": status,
        "heat": heat,
        "decided_by_id": decided_by,
        "decided_at": _iso(decided_at),
        "reject_reason": reason,
        "version": version,
    }


# --- Writing.


class _SqliteSink:
    """Core executemany inserts, a commit per batch, on one connection tuned for bulk writing."""

    def __init__(self, connection):
        self.connection = connection
        for pragma in ("synchronous=OFF", "cache_size=-400000", "temp_store=MEMORY"):
            connection.exec_driver_sql(f"PRAGMA {pragma}")
        connection.commit()

    def write(self, table, rows) -> int:
        count, batch, statement = 0, [], insert(table)
        for row in rows:
            batch.append(row)
            if len(batch) == BATCH:
                count += self._flush(statement, batch)
                batch = []
        return count + self._flush(statement, batch)

    def _flush(self, statement, batch: list[dict]) -> int:
        if batch:
            self.connection.execute(statement, batch)
            self.connection.commit()
        return len(batch)

    def finish(self, tables) -> None:
        self.connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")


class _PostgresSink:
    """COPY FROM STDIN through psycopg, values converted as the column types would convert them."""

    def __init__(self, connection):
        self.connection = connection
        self.raw = connection.connection.driver_connection
        # Without row triggers: the articles' counters would be upserted once per article at the commit,
        # each time slower than the last (a row updated again and again in one transaction); they are
        # counted once, in finish().
        with self.raw.cursor() as cursor:
            cursor.execute("SET session_replication_role = replica")
            # The app's engine cancels a statement after DB_STATEMENT_TIMEOUT_MS (15 s), as a request
            # must be; COPYing a million events takes longer, and is no request.
            cursor.execute("SET statement_timeout = 0")

    def write(self, table, rows) -> int:
        rows = iter(rows)
        first = next(rows, None)
        if first is None:
            return 0
        # The columns the rows carry: the others take their server defaults, as an INSERT would give them.
        columns = [column for column in table.columns if column.name in first]
        convert = [_pg_converter(column.type) for column in columns]
        names = ", ".join(f'"{column.name}"' for column in columns)
        count = 0
        with self.raw.cursor() as cursor, cursor.copy(f"COPY {table.name} ({names}) FROM STDIN") as copy:
            for row in itertools.chain([first], rows):
                copy.write_row(
                    [
                        c(row[column.name]) if c else row[column.name]
                        for c, column in zip(convert, columns, strict=True)
                    ]
                )
                count += 1
        self.raw.commit()
        return count

    def finish(self, tables) -> None:
        with self.raw.cursor() as cursor:
            cursor.execute("SET session_replication_role = DEFAULT")
            cursor.execute("RESET statement_timeout")  # back to the engine's, for what follows
            cursor.execute("DELETE FROM article_counts")
            cursor.execute("INSERT INTO article_counts SELECT status, count(*) FROM articles GROUP BY status")
            for table in tables:  # ids were given: move each sequence past them
                cursor.execute(
                    f"SELECT setval(pg_get_serial_sequence('{table.name}', 'id'), "
                    f"(SELECT coalesce(max(id), 0) + 1 FROM {table.name}), false)"
                )
        self.raw.commit()
        self.raw.autocommit = True
        try:
            with self.raw.cursor() as cursor:
                cursor.execute("VACUUM ANALYZE")
        finally:
            self.raw.autocommit = False


def _pg_converter(column_type):
    if isinstance(column_type, UTCDateTime):
        return lambda value: None if value is None else value.astimezone(UTC).replace(tzinfo=None)
    if isinstance(column_type, (JSON, SeedData)):
        return lambda value: None if value is None else json.dumps(value, ensure_ascii=False)
    return None


def reset_database(database_url: str) -> None:
    """An empty database: the SQLite file deleted, or PostgreSQL's `public` schema dropped and created."""
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite":
        if url.database and url.database != ":memory:":
            path = Path(url.database)
            path.parent.mkdir(parents=True, exist_ok=True)
            for leftover in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
                leftover.unlink(missing_ok=True)
        return
    app = create_app({"SQLALCHEMY_DATABASE_URI": database_url, "SECRET_KEY": "history"})
    with app.app_context():
        with db.engine.begin() as connection:
            connection.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
            connection.execute(text("CREATE SCHEMA public"))
        db.engine.dispose()


def write_history(
    database_url: str,
    articles: int = 200_000,
    events: int = 1_000_000,
    days: int = 90,
    seed: int = 1,
    end: datetime | None = None,
    log=None,
) -> dict:
    """Empty and migrate the database, then write the history; returns what it wrote."""
    log = log or (lambda message: None)
    started = time.perf_counter()
    if end is not None and end.tzinfo is None:
        raise ValueError("end must be an aware datetime")
    end = (end or datetime.now(UTC)).astimezone(UTC).replace(second=0, microsecond=0)
    history = _History(articles, events, days, seed, _micros(end))
    history.run()
    simulated = time.perf_counter()
    log(f"  simulated {articles:,} articles and {len(history.events):,} events in {simulated - started:.1f}s")
    rows = _Rows(history, PASSWORD_HASH)

    reset_database(database_url)
    app = create_app({"SQLALCHEMY_DATABASE_URI": database_url, "SECRET_KEY": "history"})
    counts = {}
    with app.app_context():
        upgrade()
        migrated = time.perf_counter()
        with db.engine.connect() as connection:
            sink = (
                _SqliteSink(connection) if connection.dialect.name == "sqlite" else _PostgresSink(connection)
            )
            counts["users"] = sink.write(User.__table__, rows.users())
            counts["topics"] = sink.write(Topic.__table__, rows.topics())
            counts["articles"] = sink.write(Article.__table__, rows.articles())
            log(f"  wrote {counts['articles']:,} articles in {time.perf_counter() - migrated:.1f}s")
            counts["article_topics"] = sink.write(article_topics, rows.article_topics)
            counts["related_links"] = sink.write(RelatedLink.__table__, rows.related_links)
            counts["audit_events"] = sink.write(AuditEvent.__table__, rows.audit_events())
            log(f"  wrote {counts['audit_events']:,} audit events in {time.perf_counter() - migrated:.1f}s")
            sink.finish(
                [
                    User.__table__,
                    Topic.__table__,
                    Article.__table__,
                    RelatedLink.__table__,
                    AuditEvent.__table__,
                ]
            )
            dialect = connection.dialect.name
        written = rollups.rebuild()
        if dialect == "postgresql":
            with db.engine.connect() as connection:
                connection.execution_options(isolation_level="AUTOCOMMIT").execute(
                    text("VACUUM ANALYZE stats_rollups, decision_times")
                )
        log(f"  built {written['rollups']:,} rollups in {time.perf_counter() - migrated:.1f}s")
        db.session.remove()
        db.engine.dispose()
    finished = time.perf_counter()
    statuses = Counter(article.state[0] for article in history.articles)
    actions = Counter(event[4] for event in history.events)
    decisions = Counter(event[3] for event in history.events if event[4] in ("approve", "reject"))
    names = {history.users[p.username]: p.username for p in STAFF}
    return {
        "database": dialect,
        "seed": seed,
        "days": days,
        "start": _iso(history.start),
        "end": _iso(history.clock.end),
        "counts": counts,
        "statuses": dict(sorted(statuses.items())),
        "actions": dict(sorted(actions.items())),
        "decisions_by_user": {names[user]: count for user, count in decisions.most_common()},
        "users": {
            role: [p.username for p in STAFF if p.role == role] for role in ("moderator", "lead", "admin")
        },
        "lead": LEAD,
        "password": PASSWORD,
        "seconds": {
            "simulate": simulated - started,
            "write": finished - simulated,
            "total": finished - started,
        },
    }


def describe(database_url: str) -> dict | None:
    """What a database holds: counts and the newest event's time; None when it is not migrated."""
    app = create_app({"SQLALCHEMY_DATABASE_URI": database_url, "SECRET_KEY": "history"})
    with app.app_context():
        try:
            found = {
                "articles": db.session.scalar(select(func.count()).select_from(Article)),
                "audit_events": db.session.scalar(select(func.count()).select_from(AuditEvent)),
                "users": db.session.scalar(select(func.count()).select_from(User)),
                "lead": db.session.scalar(select(User.id).where(User.username == LEAD, User.role == "lead"))
                is not None,
                "newest_event": db.session.scalar(select(func.max(AuditEvent.created_at))),
                "oldest_import": db.session.scalar(select(func.min(Article.imported_at))),
            }
        except SQLAlchemyError:
            found = None
        finally:
            db.session.remove()
            db.engine.dispose()
    return found


def format_summary(report: dict) -> str:
    counts = report["counts"]
    lines = [
        f"{report['database']}: {report['start'][:16]} to {report['end'][:16]} "
        f"({report['days']} days), seed {report['seed']}",
        "rows: " + ", ".join(f"{name} {count:,}" for name, count in counts.items()),
        "articles: " + ", ".join(f"{status} {count:,}" for status, count in report["statuses"].items()),
        "events: " + ", ".join(f"{action} {count:,}" for action, count in report["actions"].items()),
        "decisions by user: "
        + ", ".join(f"{name} {count:,}" for name, count in report["decisions_by_user"].items()),
        f"users: password {report['password']!r}; leads {', '.join(report['users']['lead'])}",
        "took {total:.0f}s (simulation {simulate:.0f}s, writing {write:.0f}s)".format(**report["seconds"]),
    ]
    return "\n".join(lines)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.history", description=__doc__.splitlines()[0])
    parser.add_argument(
        "--database-url",
        required=True,
        help="the database to empty and fill (sqlite:///PATH or postgresql+psycopg://...)",
    )
    parser.add_argument("--articles", type=int, default=200_000, help="articles (default 200,000)")
    parser.add_argument(
        "--events", type=int, default=1_000_000, help="audit events, exactly (default 1,000,000)"
    )
    parser.add_argument("--days", type=int, default=90, help="length of the history (default 90)")
    parser.add_argument("--seed", type=int, default=1, help="random seed (default 1)")
    parser.add_argument(
        "--end",
        type=datetime.fromisoformat,
        help="when the history ends, ISO 8601 (default: now); UTC if no zone",
    )
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    args = parser.parse_args(argv)
    if args.articles < 1 or args.days < 1 or args.events < 0:
        parser.error("need --articles >= 1, --days >= 1 and --events >= 0")
    end = args.end
    if end is not None and end.tzinfo is None:
        end = end.replace(tzinfo=UTC)
    log = lambda message: print(message, file=sys.stderr, flush=True)  # noqa: E731
    try:
        report = write_history(
            args.database_url, args.articles, args.events, args.days, args.seed, end, log=log
        )
    except (SQLAlchemyError, ValueError, OSError) as error:
        log(f"history: {error}")
        return 2
    print(json.dumps(report, indent=1) if args.json else format_summary(report))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
