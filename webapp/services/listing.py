"""The queue listing: filters read from the URL, and keyset pages (never OFFSET, never COUNT)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, fields
from datetime import UTC, date, datetime, timedelta
from functools import cache, cached_property, lru_cache
from typing import NamedTuple

from sqlalchemy import ColumnElement, bindparam, func, literal, select, tuple_, union, union_all
from sqlalchemy.orm import aliased

from ..formats import search_query
from ..formats.seeds import image_src
from ..formats.times import ago
from ..models import (
    PENDING,
    QUALITY_SORT_KEY,
    STATUSES,
    Article,
    Provider,
    StoryMatch,
    Topic,
    User,
    db,
)
from . import search
from .claims import with_live_claim
from .filtering import (
    InvalidCursor,
    end_of_day,
    format_cursor,
    has_topic,
    parse_cursor,
    parse_days,
    start_of_day,
)

PAGE_SIZE = 50
CHANGES_PAGE = 200  # changed rows per poll's answer (`changed_since`); the rest follow at once
# A change is stamped (updated_at) when its transaction starts and seen once it commits, which can be
# seconds later when it waits for a lock: each poll looks back this far, so that no change committed
# late falls between two polls. The page leaves a row it already shows at that version as it is.
CHANGES_OVERLAP = timedelta(seconds=5)
SORTS = {
    "newest": (Article.published_at, "desc"),
    "oldest": (Article.published_at, "asc"),
    "quality": (QUALITY_SORT_KEY, "desc"),
    "heat": (Article.heat, "desc"),
}
RELEVANCE = "relevance"  # the best matches of the search first (without a search: newest first)
SORT_LABELS = {
    "newest": "Newest first",
    "oldest": "Oldest first",
    "quality": "Quality",
    "heat": "Heat",
    RELEVANCE: "Relevance (with a search)",
}
STATUS_CHOICES = (*STATUSES, "all")


@dataclass(frozen=True)
class QueueFilters:
    status: str = PENDING
    sort: str = "newest"
    q: str = ""
    topic: str = ""
    provider: str = ""
    category: str = ""
    published_from: date | None = None
    published_to: date | None = None
    stale: bool = False
    duplicates: bool = False

    @classmethod
    def names(cls) -> tuple[str, ...]:
        """The query arguments that are filters: what an article's address keeps (a page cursor is none)."""
        return tuple(field.name for field in fields(cls))

    def as_args(self) -> dict[str, str]:
        """The filters that differ from the defaults, as URL query arguments."""
        return dict(self._args)

    @cached_property
    def _args(self) -> tuple[tuple[str, str], ...]:
        # Worked out once per filters: a request asks for them several times (links, counts, the poll).
        args = []
        for field in fields(self):
            value = getattr(self, field.name)
            if value != field.default:
                text = "1" if value is True else value.isoformat() if isinstance(value, date) else value
                args.append((field.name, text))
        return tuple(args)


class RowView(NamedTuple):
    """What one queue row shows, and nothing else: equal views are the same markup (`rendering.row_html`).

    Immutable and hashable like a frozen dataclass, but a page builds fifty of them per request, and
    a frozen dataclass takes three times as long to build (one object.__setattr__ per field).
    """

    id: int
    href: str
    version: int
    status: str
    title: str
    stale: bool
    seed_published: bool
    duplicate_of_title: str | None
    duplicate_reason: str | None
    claimed_by_other: str | None  # who else is reviewing it, if anyone
    provider_name: str
    published_at: datetime
    published_ago: str
    quality: int | None
    heat: int
    decided_by: str | None
    related_count: int
    suggestion_count: int
    image_url: str | None = None  # the article's own image, https only (`rendering.row_html` may drop it)
    # The title cut into parts, each with whether it is a word the search matched (shown marked).
    marked_title: tuple[tuple[str, bool], ...] | None = None


@dataclass
class QueuePage:
    rows: list[RowView]
    next_cursor: str | None


def parse_filters(args) -> tuple[QueueFilters, dict[str, str]]:
    """Filters from query arguments; a bad value falls back to its default with a message for its field."""
    values, errors = {}, {}
    for name in ("q", "topic", "provider", "category"):
        values[name] = args.get(name, "").strip()[:200]
    if values["q"]:
        try:
            search_query.parse(values["q"])
        except search_query.SearchQueryError as error:
            values["q"], errors["q"] = "", str(error)
    status = args.get("status", PENDING)
    if status in STATUS_CHOICES:
        values["status"] = status
    else:
        errors["status"] = f"Status must be one of {', '.join(STATUS_CHOICES)}."
    sort = args.get("sort", "newest")
    if sort in SORTS or sort == RELEVANCE:
        values["sort"] = sort
    else:
        errors["sort"] = f"Sort must be one of {', '.join(SORT_LABELS)}."
    days, day_errors = parse_days(args, {"published_from": "From", "published_to": "To"})
    values |= days
    errors |= day_errors
    values["stale"] = args.get("stale") in ("1", "on", "true")
    values["duplicates"] = args.get("duplicates") in ("1", "on", "true")
    return QueueFilters(**values), errors


def queue_page(
    filters: QueueFilters,
    after: str | None,
    stale_after: timedelta,
    limit: int = PAGE_SIZE,
    *,
    viewer_id: int | None = None,
    href: Callable[[int], str] | None = None,
) -> QueuePage:
    """One page of the queue, starting after the cursor `after`: one query, rows as `viewer_id` sees them.

    `href` gives each row its link (the web layer knows the URLs; without it rows link nowhere).
    """
    now = datetime.now(UTC)
    in_use = tuple(name for name, each in FILTERS.items() if each.in_use(filters))
    params = {"now": now, **_filter_values(filters, in_use, now - stale_after)}
    ranked = filters.sort == RELEVANCE and bool(filters.q)
    plans = _plans(filters, params, "relevance" if ranked else "page")
    if ranked:
        return _relevance_page(filters, in_use, plans, params, after, stale_after, limit, viewer_id, href)
    sort = "newest" if filters.sort == RELEVANCE else filters.sort
    if after:
        params["after_key"], params["after_id"] = parse_cursor(after, _cursor_kind(sort))
    query = _page_query(sort, in_use, bool(after), limit + 1, plans)
    # Core statements on the session's connection: the ORM layer has nothing to add to plain rows.
    results = db.session.connection().execute(query, params).all()
    rows = results[:limit]
    next_cursor = _cursor(rows[-1], sort) if len(results) > limit else None
    return QueuePage(_row_views(rows, now, stale_after, viewer_id, href, filters.q), next_cursor)


def _plans(filters: QueueFilters, params: dict, reads: str) -> tuple[str, ...]:
    """The search's and provider filter's plans (`search`), their values added to `params`."""
    plans = []
    if filters.q:
        plan, values = search.search_filter(search_query.parse(filters.q), reads)
        plans.append(plan)
        params |= values
    if filters.provider:
        plan, values = search.provider_filter(filters.provider, reads)
        plans.append(plan)
        params |= values
    return tuple(plans)


def _relevance_page(filters, in_use, plans, params, after, stale_after, limit, viewer_id, href) -> QueuePage:
    """A page of the search's best matches; the cursor is how many of them the pages before showed."""
    now = params["now"]
    shown = parse_cursor(after, int)[0] if after else 0
    if shown < 0:
        raise InvalidCursor(after)
    params |= {"shown": shown}
    provider_plans = tuple(plan for plan in plans if plan.startswith("provider"))
    dialect = db.session.get_bind().dialect.name  # the statement differs by database
    query = _relevance_query(dialect, plans[0], in_use, provider_plans, limit + 1)
    results = db.session.connection().execute(query, params).all()
    rows = results[:limit]
    next_cursor = format_cursor(shown + limit, rows[-1].id) if len(results) > limit else None
    return QueuePage(_row_views(rows, now, stale_after, viewer_id, href, filters.q), next_cursor)


@lru_cache(maxsize=256)
def _relevance_query(
    dialect: str,
    search_plan: str,
    filters_in_use: tuple[str, ...],
    provider_plans: tuple[str, ...],
    limit: int,
):
    conditions = [FILTERS[name].condition() for name in filters_in_use]
    conditions += search.conditions(provider_plans, driven=False)
    ranked = search.relevance_candidates(conditions, search_plan)
    # The page's ids first, then their rows: the rows' subqueries run for 50 rows, not every candidate.
    page = (
        select(ranked.c.id, ranked.c.score)
        .order_by(ranked.c.score, ranked.c.id.desc())
        .limit(limit)
        .offset(bindparam("shown"))
        .subquery("page")
    )
    return _rows_query(page).order_by(page.c.score, Article.id.desc())


def queue_rows(
    article_ids: list[int],
    stale_after: timedelta,
    *,
    viewer_id: int | None = None,
    href: Callable[[int], str] | None = None,
) -> list[RowView]:
    """The queue rows of these articles, as a page shows them."""
    now = datetime.now(UTC)
    rows = db.session.connection().execute(_rows_by_id_query(), {"ids": article_ids, "now": now}).all()
    return _row_views(rows, now, stale_after, viewer_id, href)


def _row_views(rows, now: datetime, stale_after: timedelta, viewer_id, href, q: str = "") -> list[RowView]:
    stale_before = now - stale_after
    marked = search_query.parse(q).marked if q else None
    views = []
    # Unpacked by position, in `_rows_query`'s order: reading fifty rows' columns by name costs more
    # than all the rest of building their views.
    for (
        article_id,
        title,
        provider_name,
        published_at,
        quality,
        heat,
        status,
        seed_published,
        version,
        decided_by,
        related_count,
        suggestion_count,
        _duplicate_of_id,
        duplicate_of_title,
        duplicate_reason,
        image_url,
        claimed_by,
        claimed_by_id,
    ) in rows:
        views.append(
            RowView(
                id=article_id,
                href=href(article_id) if href else "",
                version=version,
                status=status,
                title=title,
                stale=status == PENDING and published_at < stale_before,
                seed_published=seed_published,
                duplicate_of_title=duplicate_of_title,
                duplicate_reason=duplicate_reason,
                claimed_by_other=claimed_by if claimed_by_id != viewer_id else None,
                provider_name=provider_name,
                published_at=published_at,
                published_ago=ago(published_at, now),
                quality=quality,
                heat=heat,
                decided_by=decided_by,
                related_count=related_count,
                suggestion_count=suggestion_count,
                image_url=image_src(image_url),
                marked_title=marked(title) if marked else None,
            )
        )
    return views


@cache
def _rows_by_id_query():
    return _rows_query().where(Article.id.in_(bindparam("ids", expanding=True))).order_by(Article.id)


@cache
def _rows_query(ids=None):
    """The rows' query: from `articles`, or from each of `ids` (a subquery) first (`search.driven_by`)."""
    # Rows rather than ORM objects, and the decider and live claim in the same query, built once:
    # the list is the hottest page of the app. The related count is kept on the article (0021).
    decider = aliased(User)
    original = aliased(Article)
    query = (
        select(
            Article.id,
            Article.title,
            Article.provider_name,
            Article.published_at,
            Article.quality,
            Article.heat,
            Article.status,
            Article.seed_published,
            Article.version,
            decider.username.label("decided_by"),
            Article.related_count,
            Article.suggestion_count,
            Article.duplicate_of_id,
            original.title.label("duplicate_of_title"),
            StoryMatch.reason.label("duplicate_reason"),
            Article.image_url,
        )
        .select_from(Article.__table__ if ids is None else search.driven_by(ids, Article.__table__))
        .outerjoin(decider, decider.id == Article.decided_by_id)
        .outerjoin(original, original.id == Article.duplicate_of_id)
        .outerjoin(
            StoryMatch,
            (StoryMatch.article_id == Article.id) & (StoryMatch.other_id == Article.duplicate_of_id),
        )
    )
    return with_live_claim(query)


@dataclass(frozen=True)
class _Filter:
    """A queue filter: whether it is in use, its condition on bound values, and the values it binds."""

    in_use: Callable[[QueueFilters], bool]
    condition: Callable[[], ColumnElement[bool]]  # called once per combination of filters in use
    values: Callable[[QueueFilters, datetime], dict] = lambda filters, stale_before: {}  # binds nothing


# A page's statement is built once per combination of filters in use and reused, with only the
# values bound per request: that saves SQLAlchemy rebuilding its cache key every request.
FILTERS = {
    "status": _Filter(
        in_use=lambda f: f.status != "all",
        condition=lambda: Article.status == bindparam("status"),
        values=lambda f, _: {"status": f.status},
    ),
    "topic": _Filter(
        in_use=lambda f: bool(f.topic),
        condition=lambda: has_topic(bindparam("topic")),
        values=lambda f, _: {"topic": f.topic},
    ),
    "category": _Filter(
        in_use=lambda f: bool(f.category),
        condition=lambda: Article.category == bindparam("category"),
        values=lambda f, _: {"category": f.category},
    ),
    "published_from": _Filter(
        in_use=lambda f: f.published_from is not None,
        condition=lambda: (
            Article.published_at >= bindparam("published_from", type_=Article.published_at.type)
        ),
        values=lambda f, _: {"published_from": start_of_day(f.published_from)},
    ),
    "published_to": _Filter(
        in_use=lambda f: f.published_to is not None,
        condition=lambda: Article.published_at < bindparam("published_to", type_=Article.published_at.type),
        values=lambda f, _: {"published_to": end_of_day(f.published_to)},
    ),
    "duplicates": _Filter(
        in_use=lambda f: f.duplicates,
        condition=lambda: (Article.suggestion_count > 0) | Article.duplicate_of_id.is_not(None),
    ),
    "stale": _Filter(
        in_use=lambda f: f.stale,
        condition=lambda: (
            (Article.status == PENDING)
            & (Article.published_at < bindparam("stale_before", type_=Article.published_at.type))
        ),
        values=lambda f, stale_before: {"stale_before": stale_before},
    ),
}


def _filter_values(filters: QueueFilters, in_use: tuple[str, ...], stale_before: datetime) -> dict:
    values = {}
    for name in in_use:
        values |= FILTERS[name].values(filters, stale_before)
    return values


def _conditions(filters_in_use: tuple[str, ...], plans: tuple[str, ...]) -> list[ColumnElement[bool]]:
    return [FILTERS[name].condition() for name in filters_in_use] + search.conditions(plans)


@lru_cache(maxsize=512)
def _page_query(
    sort: str, filters_in_use: tuple[str, ...], with_cursor: bool, limit: int, plans: tuple[str, ...]
):
    key, direction = SORTS[sort]
    conditions = _conditions(filters_in_use, plans)
    if with_cursor:
        position = tuple_(bindparam("after_key", type_=key.type), bindparam("after_id"))
        conditions.append(
            tuple_(key, Article.id) < position if direction == "desc" else tuple_(key, Article.id) > position
        )
    order = _ordered((key, Article.id), direction)
    ids = search.source(plans)
    if search.sorted_after_reading(plans):
        matches_order = _ordered((search.unindexed(key), search.unindexed(Article.id)), direction)
        page = select(Article.id).where(*conditions).order_by(*matches_order).limit(limit).subquery("page")
        return _rows_query(page).order_by(*order)
    if ids is None and "status" not in filters_in_use:
        page = _merged_statuses_page(filters_in_use, conditions, key, direction, limit)
        return _rows_query(page).order_by(*order)
    if ids is None:
        return _rows_query().where(*conditions).order_by(*order).limit(limit)
    # A page of the few matching ids first, sorted, then their rows (whose subqueries run for 50 rows).
    page = (
        select(Article.id)
        .select_from(search.driven_by(ids, Article.__table__, sort_keys=True))
        .where(*conditions)
        .order_by(*order)
        .limit(limit)
        .subquery("page")
    )
    return _rows_query(page).order_by(*order)


def _merged_statuses_page(filters_in_use: tuple[str, ...], conditions: list, key, direction: str, limit: int):
    """The page's ids across every status: each status's own page read off its index, then merged.

    Every sort's index starts with the status, so the whole table has no order of its own: one
    query over all statuses sorted every article (300 ms at 100,000 on SQLite, growing with it).
    """
    statuses = (PENDING,) if "stale" in filters_in_use else STATUSES  # only pending articles go stale
    per_status = [
        select(Article.id, key.label("sort_key"))
        .where(*conditions, Article.status == literal(status))
        .order_by(*_ordered((key, Article.id), direction))
        .limit(limit)
        .subquery()
        .select()
        for status in statuses
    ]
    merged = union_all(*per_status).subquery("merged")
    merged_order = _ordered((merged.c.sort_key, merged.c.id), direction)
    return select(merged.c.id).order_by(*merged_order).limit(limit).subquery("page")


def _ordered(columns, direction: str) -> tuple:
    return tuple(column.desc() if direction == "desc" else column.asc() for column in columns)


def count_matching(filters: QueueFilters, stale_after: timedelta, cap: int) -> int:
    """How many articles the filters match, counted up to `cap` (then `cap`): never past what a page reads.

    A filter on indexed columns counts index entries; a text search reads the rows a page of it
    reads when few match, and stops after `cap` matches when many do.
    """
    plan = _count_plan(filters, stale_after, cap)
    statement = _count_query(plan.filters_in_use, plan.plans, plan.driver)
    return db.session.connection().execute(statement, plan.params).scalar_one()


class _CountPlan(NamedTuple):
    filters_in_use: tuple[str, ...]
    plans: tuple[str, ...]
    driver: str | None
    params: dict


def _count_plan(filters: QueueFilters, stale_after: timedelta, cap: int) -> _CountPlan:
    in_use = tuple(name for name, each in FILTERS.items() if each.in_use(filters))
    params = {"cap": cap, **_filter_values(filters, in_use, datetime.now(UTC) - stale_after)}
    plans, driver = _count_driver(filters, _plans(filters, params, "count"), params)
    return _CountPlan(in_use, plans, driver, params)


def _count_driver(
    filters: QueueFilters, plans: tuple[str, ...], params: dict
) -> tuple[tuple[str, ...], str | None]:
    """The plans of a count of a search with a provider or category filter, and whether the category's
    articles drive it ("category"; None: the plans' own source, the provider's when it drives).

    A count reads every match of one side, up to its cap, and checks the others on each. The
    search's matches driving, each row is read for its provider or category (about 3.6 µs a row);
    the provider's or category's articles driving (off their index), each is looked up in the
    search's matches, read once into a set (0.5 µs a row, the set 0.14 µs a match). On SQLite the
    side with the fewest matches drives: at 1,000,000 articles a common provider or category with
    a word in 10 % of the articles counted in 400 ms driven by the word's matches, 55 to 100 ms by
    their articles. A topic is checked off the primary key of `article_topics` without reading the
    row, so the search's matches keep driving it. PostgreSQL's planner makes the choice itself.
    """
    sides = [name for name in ("provider", "category") if getattr(filters, name)]
    if not filters.q or not sides or db.session.get_bind().dialect.name != "sqlite":
        return plans, None
    # The word's matches are counted first (0.06 µs each), the others' articles only up to the fewest.
    fewest, driver = search.count_matches(params, search.count_ceiling() + 1), None
    for side in sides:
        if side == "provider":
            size = search.count_provider(params, fewest)
        else:
            size = db.session.connection().execute(_category_size(), params | {"up_to": fewest}).scalar()
        if size < fewest:
            fewest, driver = size, side
    if driver is None:
        return plans, None
    if driver == "provider":
        return ("match-set", "provider-fetch"), None  # the provider plan's own source drives
    return ("match-set", *(("provider-probe",) if filters.provider else ())), driver


@cache
def _category_articles():
    """The ids of the articles in the filter's category, off its index."""
    return select(Article.id.label("id")).where(Article.category == bindparam("category")).subquery()


@cache
def _category_size():
    ids = _category_articles()
    return select(func.count()).select_from(select(ids.c.id).limit(bindparam("up_to")).subquery())


@lru_cache(maxsize=256)
def _count_query(filters_in_use: tuple[str, ...], plans: tuple[str, ...], driver: str | None = None):
    ids = _category_articles() if driver == "category" else search.source(plans)
    # The driving filter's own condition would read each row again for what its index already said.
    in_use = tuple(name for name in filters_in_use if name != driver)
    matching = select(Article.id).where(*_conditions(in_use, plans))
    if ids is not None:
        matching = matching.select_from(search.driven_by(ids, Article.__table__, sort_keys=True))
    return select(func.count()).select_from(matching.limit(bindparam("cap")).subquery())


def matches(filters: QueueFilters, stale_after: timedelta, article_id: int) -> bool:
    """Whether the filters match this one article as it stands (one read by primary key)."""
    in_use = tuple(name for name, each in FILTERS.items() if each.in_use(filters))
    params = {"article_id": article_id, **_filter_values(filters, in_use, datetime.now(UTC) - stale_after)}
    plans = _plans(filters, params, "one")
    return db.session.connection().execute(_match_query(in_use, plans), params).first() is not None


@lru_cache(maxsize=256)
def _match_query(filters_in_use: tuple[str, ...], plans: tuple[str, ...]):
    conditions = _conditions(filters_in_use, plans)
    return select(Article.id).where(Article.id == bindparam("article_id"), *conditions)


def _cursor_kind(sort: str) -> type[datetime] | type[int]:
    return datetime if sort in ("newest", "oldest") else int


def _cursor(article, sort: str) -> str:
    value = article.published_at if _cursor_kind(sort) is datetime else _sort_number(article, sort)
    return format_cursor(value, article.id)


def _sort_number(article, sort: str) -> int:
    if sort == "quality":
        return -1 if article.quality is None else article.quality
    return article.heat


class ChangesPage(NamedTuple):
    """A page of articles changed since a poll's position, and where the next poll starts."""

    ids: list[int]
    since: datetime  # the next poll asks for changes after (since, after_id)
    after_id: int
    more: bool  # a full page: the rest follows at once instead of after the poll interval


def changed_since(
    since: datetime,
    after_id: int = 0,
    upto: int | None = None,
    *,
    limit: int | None = None,
    now: datetime | None = None,
) -> ChangesPage:
    """The articles (numbered up to `upto`) changed after (`since`, `after_id`), oldest change first.

    Everyone's changes, not only those of a list of ids: the page keeps what it lists, and a list
    grown by "Load more" to hundreds of rows would make a poll naming each of them too long for a
    URL. `upto` (the highest id the page lists) leaves out articles imported since it loaded.
    At most `limit` (CHANGES_PAGE) a page, never cut silently: a full page continues from its last change.
    """
    limit = limit or CHANGES_PAGE
    position = tuple_(Article.updated_at, Article.id) > tuple_(
        bindparam("since", type_=Article.updated_at.type), bindparam("after_id")
    )
    query = select(Article.id, Article.updated_at).where(position)
    if upto is not None:
        query = query.where(Article.id <= upto)
    query = query.order_by(Article.updated_at, Article.id).limit(limit + 1)
    changed = db.session.execute(query, {"since": since, "after_id": after_id}).all()
    if len(changed) > limit:
        last = changed[limit - 1]
        return ChangesPage([row.id for row in changed[:limit]], last.updated_at, last.id, more=True)
    # The next poll looks back CHANGES_OVERLAP (see there), even over changes this one sent.
    resume = (now or datetime.now(UTC)) - CHANGES_OVERLAP
    return ChangesPage([row.id for row in changed], resume, 0, more=False)


def first_poll(now: datetime | None = None) -> ChangesPage:
    """Where a page's first poll starts: CHANGES_OVERLAP before it was made, like every other poll."""
    return ChangesPage([], (now or datetime.now(UTC)) - CHANGES_OVERLAP, 0, more=False)


def filter_choices() -> dict[str, list[str]]:
    """Values offered in the filter menus."""
    return {
        "statuses": STATUS_CHOICES,
        "sorts": SORT_LABELS,
        "topics": topic_names(),
        "categories": db.session.scalars(
            select(Article.category).distinct().order_by(Article.category)
        ).all(),
        "providers": provider_suggestions(),
    }


def provider_suggestions() -> list[str]:
    """Every provider name and domain there is, sorted: the provider field's suggestions."""
    names = select(Provider.name.label("value"))
    domains = select(Provider.domain).where(Provider.domain != "")
    both = union(names, domains).subquery()
    return db.session.scalars(select(both.c.value).order_by(both.c.value)).all()


def topic_names() -> list[str]:
    """Every topic's name, sorted (the filter menus' topics)."""
    return db.session.scalars(select(Topic.name).order_by(Topic.name)).all()


def titles(article_ids: list[int]) -> list[str]:
    """The titles of these articles (those that still exist), in id order."""
    return db.session.scalars(
        select(Article.title).where(Article.id.in_(article_ids)).order_by(Article.id)
    ).all()
