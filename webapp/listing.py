"""The queue listing: filters read from the URL, and keyset pages (never OFFSET, never COUNT)."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import date, datetime, time, timedelta, timezone

from sqlalchemy import func, or_, select, tuple_
from sqlalchemy.orm import joinedload, load_only

from .models import PENDING, QUALITY_SORT_KEY, STATUSES, Article, RelatedLink, Topic, article_topics, db

PAGE_SIZE = 50
SORTS = {
    "newest": (Article.published_at, "desc"),
    "oldest": (Article.published_at, "asc"),
    "quality": (QUALITY_SORT_KEY, "desc"),
    "heat": (Article.heat, "desc"),
}
SORT_LABELS = {"newest": "Newest first", "oldest": "Oldest first", "quality": "Quality", "heat": "Heat"}
STATUS_CHOICES = (*STATUSES, "all")
ROW_COLUMNS = (
    Article.id, Article.title, Article.provider_name, Article.provider_domain, Article.published_at,
    Article.quality, Article.heat, Article.status, Article.seed_published, Article.decided_at,
    Article.decided_by_id, Article.version, Article.updated_at,
)


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

    def as_args(self) -> dict[str, str]:
        """The filters that differ from the defaults, as URL query arguments."""
        default = QueueFilters()
        args = {}
        for name, value in asdict(self).items():
            if value != getattr(default, name):
                args[name] = "1" if value is True else value.isoformat() if isinstance(value, date) else value
        return args


@dataclass
class QueueRow:
    article: Article
    related_count: int


@dataclass
class QueuePage:
    rows: list[QueueRow]
    next_cursor: str | None


def parse_filters(args) -> tuple[QueueFilters, dict[str, str]]:
    """Filters from query arguments; a bad value falls back to its default with a message for its field."""
    values, errors = {}, {}
    for name in ("q", "topic", "provider", "category"):
        values[name] = args.get(name, "").strip()[:200]
    status = args.get("status", PENDING)
    if status in STATUS_CHOICES:
        values["status"] = status
    else:
        errors["status"] = f"Status must be one of {', '.join(STATUS_CHOICES)}."
    sort = args.get("sort", "newest")
    if sort in SORTS:
        values["sort"] = sort
    else:
        errors["sort"] = f"Sort must be one of {', '.join(SORTS)}."
    for name in ("published_from", "published_to"):
        raw = args.get(name, "").strip()
        if raw:
            try:
                values[name] = date.fromisoformat(raw)
            except ValueError:
                errors[name] = f"{raw!r} is not a date like 2023-10-19."
    values["stale"] = args.get("stale") in ("1", "on", "true")
    return QueueFilters(**values), errors


def queue_page(filters: QueueFilters, after: str | None, stale_after: timedelta, limit: int = PAGE_SIZE) -> QueuePage:
    """One page of the queue, starting after the cursor `after`."""
    key, direction = SORTS[filters.sort]
    related_count = (
        select(func.count(RelatedLink.id))
        .where(RelatedLink.article_id == Article.id, RelatedLink.merged_into_id.is_(None))
        .scalar_subquery()
    )
    query = (
        select(Article, related_count)
        .options(load_only(*ROW_COLUMNS), joinedload(Article.decided_by))
        .where(*_conditions(filters, stale_after))
    )
    if after:
        query = query.where(_after(key, direction, after))
    order = (key.desc(), Article.id.desc()) if direction == "desc" else (key.asc(), Article.id.asc())
    results = db.session.execute(query.order_by(*order).limit(limit + 1)).all()
    rows = [QueueRow(article, count) for article, count in results[:limit]]
    next_cursor = _cursor(rows[-1].article, filters.sort) if len(results) > limit else None
    return QueuePage(rows, next_cursor)


def _conditions(filters: QueueFilters, stale_after: timedelta) -> list:
    conditions = []
    if filters.status != "all":
        conditions.append(Article.status == filters.status)
    if filters.q:
        conditions.append(or_(Article.title.icontains(filters.q, autoescape=True), Article.excerpt.icontains(filters.q, autoescape=True)))
    if filters.topic:
        conditions.append(
            select(article_topics.c.article_id)
            .join(Topic, Topic.id == article_topics.c.topic_id)
            .where(article_topics.c.article_id == Article.id, Topic.name == filters.topic)
            .exists()
        )
    if filters.provider:
        conditions.append(or_(Article.provider_domain == filters.provider, Article.provider_name == filters.provider))
    if filters.category:
        conditions.append(Article.category == filters.category)
    if filters.published_from:
        conditions.append(Article.published_at >= _midnight(filters.published_from))
    if filters.published_to:
        conditions.append(Article.published_at < _midnight(filters.published_to + timedelta(days=1)))
    if filters.stale:
        conditions += [Article.status == PENDING, Article.published_at < datetime.now(timezone.utc) - stale_after]
    return conditions


def _midnight(day: date) -> datetime:
    return datetime.combine(day, time(), tzinfo=timezone.utc)


def _cursor(article: Article, sort: str) -> str:
    value = article.published_at.isoformat() if sort in ("newest", "oldest") else _sort_number(article, sort)
    return f"{value}~{article.id}"


def _sort_number(article: Article, sort: str) -> int:
    if sort == "quality":
        return -1 if article.quality is None else article.quality
    return article.heat


def _after(key, direction: str, cursor: str):
    try:
        raw_value, raw_id = cursor.rsplit("~", 1)
        value = datetime.fromisoformat(raw_value) if key is Article.published_at else int(raw_value)
        position = (value, int(raw_id))
    except ValueError:
        raise InvalidCursor(cursor) from None
    if direction == "desc":
        return tuple_(key, Article.id) < position
    return tuple_(key, Article.id) > position


class InvalidCursor(ValueError):
    """A `after=` value that no page of ours produced."""


def is_stale(article: Article, stale_after: timedelta, now: datetime | None = None) -> bool:
    """A pending article published longer ago than `stale_after`."""
    return article.status == PENDING and article.published_at < (now or datetime.now(timezone.utc)) - stale_after


def changed_since(article_ids: list[int], since: datetime) -> list[int]:
    """Which of these articles changed after `since` (for an open queue to refresh in place)."""
    if not article_ids:
        return []
    return db.session.scalars(
        select(Article.id).where(Article.id.in_(article_ids[:500]), Article.updated_at > since)
    ).all()


def filter_choices() -> dict[str, list[str]]:
    """Values offered in the filter menus."""
    return {
        "topics": db.session.scalars(select(Topic.name).order_by(Topic.name)).all(),
        "categories": db.session.scalars(select(Article.category).distinct().order_by(Article.category)).all(),
    }

