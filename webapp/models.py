"""The data model: articles and their related links, topics, users and the audit trail."""

from __future__ import annotations

import json
import secrets
from datetime import UTC, date, datetime
from typing import Any

from flask_login import UserMixin
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    SmallInteger,
    String,
    Table,
    Text,
    TypeDecorator,
    UniqueConstraint,
    false,
    func,
    literal_column,
)
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from .formats.seeds import HEAT_UNSET

# Stable constraint names, so migrations can alter them on SQLite and PostgreSQL alike.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

PENDING, APPROVED, REJECTED = "pending", "approved", "rejected"
STATUSES = (PENDING, APPROVED, REJECTED)
ROLES = ("moderator", "lead", "admin")


def role_at_least(role: str, required: str) -> bool:
    """Roles are ordered: moderator < lead < admin."""
    return ROLES.index(role) >= ROLES.index(required)


def upsert(table, dialect: str, **values):
    """`INSERT INTO table … ON CONFLICT`, as this database spells it: chain `.on_conflict_do_update`."""
    return (postgresql_insert if dialect == "postgresql" else sqlite_insert)(table).values(**values)


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator):
    """Timezone-aware UTC datetimes on every backend (SQLite keeps no zone)."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; Copydesk stores aware UTC datetimes only")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value, dialect):
        return None if value is None else value.replace(tzinfo=UTC)


def _encode_json(value: Any) -> Any:
    if isinstance(value, datetime):
        return {"$datetime": value.isoformat()}
    if isinstance(value, date):
        return {"$date": value.isoformat()}
    raise TypeError(f"cannot store {type(value).__name__} as JSON")


def _decode_json(mapping: dict) -> Any:
    if len(mapping) == 1:
        if "$datetime" in mapping:
            return datetime.fromisoformat(mapping["$datetime"])
        if "$date" in mapping:
            return date.fromisoformat(mapping["$date"])
    return mapping


class SeedData(TypeDecorator):
    """YAML values from a seed (dates included) as JSON text, key order kept."""

    impl = Text
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        return json.dumps(value, ensure_ascii=False, allow_nan=False, default=_encode_json)

    def process_result_value(self, value, dialect):
        return None if value is None else json.loads(value, object_hook=_decode_json)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


db = SQLAlchemy(model_class=Base)

article_topics = Table(
    "article_topics",
    Base.metadata,
    Column("article_id", ForeignKey("articles.id", ondelete="CASCADE"), primary_key=True),
    Column("topic_id", ForeignKey("topics.id", ondelete="CASCADE"), primary_key=True, index=True),
    Column("position", Integer, nullable=False),
)


class Topic(db.Model):
    __tablename__ = "topics"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(Text, unique=True)


class User(UserMixin, db.Model):
    __tablename__ = "users"
    __table_args__ = (CheckConstraint("role IN ('moderator', 'lead', 'admin')", name="role"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(80), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(20), default="moderator")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Part of the id kept in the session cookie: a new token (new password, disabled) ends every session.
    session_token: Mapped[str] = mapped_column(String(32), default=lambda: secrets.token_hex(16))
    # The queue shows one line per article for this user (a class on the table: rows stay cacheable).
    compact_rows: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # A one-time password (made by an admin, shown once): nothing else opens until the user replaces it.
    must_change_password: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    @property
    def is_active(self) -> bool:
        return self.active

    def get_id(self) -> str:
        return f"{self.id}:{self.session_token}"

    def end_sessions(self) -> None:
        """Log this user out everywhere, at their next request."""
        self.session_token = secrets.token_hex(16)

    def has_role(self, role: str) -> bool:
        """True when this user's role is `role` or above it (moderator < lead < admin)."""
        return role_at_least(self.role, role)


class Article(db.Model):
    """One seed: every field it carried, and its moderation state."""

    __tablename__ = "articles"
    __table_args__ = (
        Index("ix_articles_queue_published", "status", "published_at", "id"),
        Index("ix_articles_queue_heat", "status", "heat", "id"),
        # Covers the stats' read of the decisions in a period (stats._decided_window).
        Index(
            "ix_articles_decisions",
            "decided_at",
            "status",
            "decided_by_id",
            "provider_name",
            "heat",
            "imported_at",
            "id",
        ),
        # A search's few matches sorted by any queue sort without reading their rows (services/search.py).
        Index("ix_articles_sort_keys", "id", "status", "published_at", "quality", "heat"),
        # The queue's poll: what changed since it last asked (listing.changed_since).
        Index("ix_articles_updated", "updated_at", "id"),
        # "you: 57 today" (counts.decided_today): a range over one moderator's decisions, not everyone's.
        Index("ix_articles_decider_day", "decided_by_id", "decided_at"),
        # The stats' oldest pending article (stats.pending_figures), without visiting every pending row.
        Index("ix_articles_status_imported", "status", "imported_at"),
        CheckConstraint("status IN ('pending', 'approved', 'rejected')", name="status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    identity: Mapped[str] = mapped_column(Text, unique=True)
    source_name: Mapped[str] = mapped_column(Text)
    content_hash: Mapped[str] = mapped_column(String(64))
    source_text: Mapped[str] = mapped_column(Text)

    category: Mapped[str] = mapped_column(Text, index=True)
    title: Mapped[str] = mapped_column(Text)
    excerpt: Mapped[str | None] = mapped_column(Text)
    published_at: Mapped[datetime] = mapped_column(UTCDateTime)
    original_url: Mapped[str | None] = mapped_column(Text)
    web_url: Mapped[str] = mapped_column(Text)
    amp_web_url: Mapped[str | None] = mapped_column(Text)
    cdn_amp_web_url: Mapped[str | None] = mapped_column(Text)
    type: Mapped[str | None] = mapped_column(Text)
    quality: Mapped[int | None] = mapped_column(Integer)
    heat: Mapped[int] = mapped_column(Integer, default=HEAT_UNSET)
    seed_published: Mapped[bool | None] = mapped_column(Boolean)
    provider_name: Mapped[str] = mapped_column(Text, index=True)
    provider_domain: Mapped[str | None] = mapped_column(Text, index=True)
    provider_extra: Mapped[dict | None] = mapped_column(SeedData)
    images: Mapped[list | None] = mapped_column(SeedData)
    # The first image's URL as the seed wrote it, kept here for the queue's rows (shown if https).
    image_url: Mapped[str | None] = mapped_column(Text)
    secured: Mapped[str | None] = mapped_column(Text)
    extra: Mapped[dict | None] = mapped_column(SeedData)
    key_order: Mapped[list] = mapped_column(SeedData)
    body: Mapped[str] = mapped_column(Text, default="")
    # The related entries' titles, one a line: what a search reads besides title, excerpt and provider.
    related_titles: Mapped[str] = mapped_column(Text, default="", server_default="")
    # Related entries not merged into another, and groups of duplicate ones suggested (duplicates.py),
    # kept here for the queue's rows by whatever changes the related list.
    related_count: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    suggestion_count: Mapped[int] = mapped_column(Integer, default=0)
    # The oldest article this one may duplicate (story_index.py), kept here for the queue's rows.
    duplicate_of_id: Mapped[int | None] = mapped_column(ForeignKey("articles.id", ondelete="SET NULL"))

    status: Mapped[str] = mapped_column(String(10), default=PENDING)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    reject_reason: Mapped[str | None] = mapped_column(Text)
    version: Mapped[int] = mapped_column(Integer, default=1)
    imported_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    topics: Mapped[list[Topic]] = relationship(
        secondary=article_topics, order_by=article_topics.c.position, viewonly=True
    )
    related: Mapped[list[RelatedLink]] = relationship(
        back_populates="article",
        order_by="RelatedLink.position",
        cascade="all, delete-orphan",
        foreign_keys="RelatedLink.article_id",
    )
    suggestions: Mapped[list[DuplicateSuggestion]] = relationship(
        order_by="DuplicateSuggestion.id", viewonly=True
    )

    __mapper_args__ = {"version_id_col": version}


# Articles without a quality sort below every score; the index holds the same expression. The -1 is
# written into the SQL: as a bound value, SQLite took the expression for another and sorted the table.
QUALITY_SORT_KEY = func.coalesce(Article.quality, literal_column("-1"))
Index("ix_articles_queue_quality", Article.status, QUALITY_SORT_KEY, Article.id)


class ArticleCount(db.Model):
    """How many articles have a status, kept by triggers on `articles` (migration 0010), never by the app."""

    __tablename__ = "article_counts"

    status: Mapped[str] = mapped_column(String(10), primary_key=True)
    count: Mapped[int] = mapped_column(Integer)


class MatchCount(db.Model):
    """How many articles a filtered queue view matched when last counted (services.counts.MatchCounts)."""

    __tablename__ = "match_counts"

    # The view's filters, hashed (counts._key).
    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    count: Mapped[int] = mapped_column(Integer)
    counted_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Claim(db.Model):
    """A moderator is looking at an article: a courtesy to others, expiring by itself."""

    __tablename__ = "claims"

    article_id: Mapped[int] = mapped_column(ForeignKey("articles.id", ondelete="CASCADE"), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)


# The search schema outside the models (migration 0018): SQLite's FTS5 tables and PostgreSQL's
# generated tsvector column and its index. Only the services' SQL names them.
SEARCH_SCHEMA = frozenset(
    {
        "articles_fts",
        "articles_fts_config",
        "articles_fts_data",
        "articles_fts_docsize",
        "articles_fts_idx",
        "search_vector",
        "ix_articles_search",
    }
)


class Provider(db.Model):
    """A provider name and domain pair some article carries, with lowercase keys for the provider filter.

    Kept by triggers on `articles` (migration 0018), never by the app.
    """

    __tablename__ = "providers"
    __table_args__ = (UniqueConstraint("name", "domain", name="uq_providers_name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(Text)
    domain: Mapped[str] = mapped_column(Text)  # '' when the articles name none
    name_key: Mapped[str] = mapped_column(Text, index=True)
    domain_key: Mapped[str] = mapped_column(Text, index=True)


class RelatedLink(db.Model):
    """One entry of an article's `related` list, in its original position."""

    __tablename__ = "related_links"
    __table_args__ = (UniqueConstraint("article_id", "position", name="uq_related_links_article_position"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    article_id: Mapped[int] = mapped_column(ForeignKey("articles.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(Text)
    excerpt: Mapped[str | None] = mapped_column(Text)
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    web_url: Mapped[str] = mapped_column(Text)
    amp_web_url: Mapped[str | None] = mapped_column(Text)
    cdn_amp_web_url: Mapped[str | None] = mapped_column(Text)
    type: Mapped[str | None] = mapped_column(Text)
    quality: Mapped[int | None] = mapped_column(Integer)
    provider_name: Mapped[str | None] = mapped_column(Text)
    provider_domain: Mapped[str | None] = mapped_column(Text)
    provider_extra: Mapped[dict | None] = mapped_column(SeedData)
    images: Mapped[list | None] = mapped_column(SeedData)
    extra: Mapped[dict | None] = mapped_column(SeedData)
    key_order: Mapped[list] = mapped_column(SeedData)
    merged_into_id: Mapped[int | None] = mapped_column(ForeignKey("related_links.id", ondelete="SET NULL"))
    # Set on entries added from another article's list (a duplicate of this one): not in the seed's text.
    source_article_id: Mapped[int | None] = mapped_column(ForeignKey("articles.id", ondelete="SET NULL"))

    article: Mapped[Article] = relationship(back_populates="related", foreign_keys=[article_id])
    merged_into: Mapped[RelatedLink | None] = relationship(remote_side=[id])


class DuplicateSuggestion(db.Model):
    """Related links of one article that look like one article: stored at import, not per page view."""

    __tablename__ = "duplicate_suggestions"

    id: Mapped[int] = mapped_column(primary_key=True)
    article_id: Mapped[int] = mapped_column(ForeignKey("articles.id", ondelete="CASCADE"), index=True)
    positions: Mapped[list] = mapped_column(JSON)
    reason: Mapped[str] = mapped_column(String(40))
    score: Mapped[int] = mapped_column(Integer)


class StoryKey(db.Model):
    """A 64-bit key of an article's own URL or headline (position -1) or of one of its related entries."""

    __tablename__ = "story_keys"
    __table_args__ = (Index("ix_story_keys_key_hash", "key_hash"),)

    article_id: Mapped[int] = mapped_column(ForeignKey("articles.id", ondelete="CASCADE"), primary_key=True)
    position: Mapped[int] = mapped_column(Integer, primary_key=True)
    key_hash: Mapped[int] = mapped_column(BigInteger, primary_key=True)


class StoryMatch(db.Model):
    """`article_id` may be a duplicate of `other_id` (kind 'duplicate'), or is only covered together
    with it (kind 'covered': an entry of its related list, formats/stories.py), for `reason`."""

    __tablename__ = "story_matches"
    __table_args__ = (
        Index("ix_story_matches_other_id", "other_id"),
        CheckConstraint("kind IN ('duplicate', 'covered')", name="kind"),
    )

    article_id: Mapped[int] = mapped_column(ForeignKey("articles.id", ondelete="CASCADE"), primary_key=True)
    other_id: Mapped[int] = mapped_column(ForeignKey("articles.id", ondelete="CASCADE"), primary_key=True)
    reason: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(10), default="duplicate", server_default="duplicate")


class AuditEvent(db.Model):
    """One moderation change: who did what to which article, with the state before and after."""

    __tablename__ = "audit_events"
    __table_args__ = (
        Index("ix_audit_events_actor_created", "actor_id", "created_at"),
        Index("ix_audit_events_article_created", "article_id", "created_at"),
        Index("ix_audit_events_action_created", "action", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    action: Mapped[str] = mapped_column(String(40), index=True)
    article_id: Mapped[int | None] = mapped_column(ForeignKey("articles.id", ondelete="SET NULL"))
    before: Mapped[dict | None] = mapped_column(JSON)
    after: Mapped[dict | None] = mapped_column(JSON)

    actor: Mapped[User | None] = relationship()
    article: Mapped[Article | None] = relationship()


class RunProcess:
    """The process doing a run: one left "running" by a process that is gone is marked interrupted
    (exporting.sweep, import_runs.mark_interrupted; services/processes.py tells)."""

    host: Mapped[str | None] = mapped_column(Text)
    pid: Mapped[int | None] = mapped_column(Integer)
    process_start: Mapped[str | None] = mapped_column(Text)


class ExportRun(RunProcess, db.Model):
    """One export of approved articles: who asked, what for, and what came out."""

    __tablename__ = "export_runs"
    __table_args__ = (
        CheckConstraint("status IN ('running', 'complete', 'failed', 'interrupted')", name="status"),
        CheckConstraint("format IN ('dir', 'zip', 'yaml')", name="format"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    requested_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    requested_by: Mapped[str] = mapped_column(Text)
    format: Mapped[str] = mapped_column(String(10))
    filters: Mapped[dict] = mapped_column(JSON)
    # A feed run (--since-last) exports what no earlier complete feed run exported.
    feed: Mapped[bool] = mapped_column(Boolean, default=False)
    status: Mapped[str] = mapped_column(String(20), default="running")
    count: Mapped[int] = mapped_column(Integer, default=0)
    sha256: Mapped[str | None] = mapped_column(String(64))
    error: Mapped[str | None] = mapped_column(Text)
    output: Mapped[str | None] = mapped_column(Text)  # where it wrote (None for a stream)


class ExportedArticle(db.Model):
    """Which version of which article an export run wrote."""

    __tablename__ = "exported_articles"
    __table_args__ = (Index("ix_exported_articles_article_version", "article_id", "version"),)

    run_id: Mapped[int] = mapped_column(ForeignKey("export_runs.id", ondelete="CASCADE"), primary_key=True)
    article_id: Mapped[int] = mapped_column(ForeignKey("articles.id", ondelete="CASCADE"), primary_key=True)
    version: Mapped[int] = mapped_column(Integer)


# What started an import: `seeds import`, `seeds watch`, or a browser upload (issue 14's jobs).
IMPORT_KINDS = ("command", "watcher", "upload")
IMPORT_STATUSES = ("running", "complete", "failed", "interrupted")
# The files an import did not take: refused whole, or changed after their article was moderated.
REFUSAL_OUTCOMES = ("invalid", "conflict")


class ImportRun(RunProcess, db.Model):
    """One import of seed files: who or what started it, from where, and what became of the files."""

    __tablename__ = "import_runs"
    __table_args__ = (
        CheckConstraint("kind IN ('command', 'watcher', 'upload')", name="kind"),
        CheckConstraint("status IN ('running', 'complete', 'failed', 'interrupted')", name="status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    kind: Mapped[str] = mapped_column(String(10))
    started_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    started_by: Mapped[str] = mapped_column(Text)
    source: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(20), default="running")
    imported: Mapped[int] = mapped_column(Integer, default=0)
    updated: Mapped[int] = mapped_column(Integer, default=0)
    unchanged: Mapped[int] = mapped_column(Integer, default=0)
    conflicts: Mapped[int] = mapped_column(Integer, default=0)
    invalid: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str | None] = mapped_column(Text)


class ImportRefusal(db.Model):
    """A file an import did not take, with the message saying why, in the order the import met it."""

    __tablename__ = "import_refusals"
    __table_args__ = (CheckConstraint("outcome IN ('invalid', 'conflict')", name="outcome"),)

    run_id: Mapped[int] = mapped_column(ForeignKey("import_runs.id", ondelete="CASCADE"), primary_key=True)
    position: Mapped[int] = mapped_column(Integer, primary_key=True)
    outcome: Mapped[str] = mapped_column(String(10))
    file: Mapped[str] = mapped_column(Text)
    message: Mapped[str] = mapped_column(Text)


class StatsRollup(db.Model):
    """A day's count of decisions, imports or merges along some dimensions (formats.rollups' grains).

    Kept by services.rollups in the same transaction as each change it counts, never by triggers.
    """

    __tablename__ = "stats_rollups"
    # SQLite keeps the rows in key order, so that a period's rows of a grain are read as one range.
    __table_args__ = {"sqlite_with_rowid": False}

    grain: Mapped[int] = mapped_column(SmallInteger, primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    moderator_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    status: Mapped[str] = mapped_column(String(10), primary_key=True)
    topics: Mapped[str] = mapped_column(Text, primary_key=True)
    provider_name: Mapped[str] = mapped_column(Text, primary_key=True)
    provider_domain: Mapped[str] = mapped_column(Text, primary_key=True)
    heat_bucket: Mapped[int] = mapped_column(Integer, primary_key=True)
    time_bucket: Mapped[int] = mapped_column(Integer, primary_key=True)
    count: Mapped[int] = mapped_column(Integer)


class DecisionTime(db.Model):
    """A decided article's exact time to decision, beside its rollup dimensions: where a percentile
    located in the rollups' time buckets is read exactly."""

    __tablename__ = "decision_times"
    __table_args__ = (
        Index("ix_decision_times_bucket", "time_bucket", "day", "seconds"),
        Index("ix_decision_times_provider", "provider_name", "time_bucket", "day", "seconds"),
    )

    article_id: Mapped[int] = mapped_column(ForeignKey("articles.id", ondelete="CASCADE"), primary_key=True)
    day: Mapped[date] = mapped_column(Date)
    seconds: Mapped[float] = mapped_column(Float)
    time_bucket: Mapped[int] = mapped_column(Integer)
    moderator_id: Mapped[int] = mapped_column(Integer)
    topics: Mapped[str] = mapped_column(Text)
    provider_name: Mapped[str] = mapped_column(Text)
    provider_domain: Mapped[str] = mapped_column(Text)


class RollupBuild(db.Model):
    """When the rollups were last built from the articles and audit events; none: not built yet,
    so the stats aggregate the articles instead (services.rollups.dashboard)."""

    __tablename__ = "rollup_builds"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    built_at: Mapped[datetime] = mapped_column(UTCDateTime)


# Long work done by the job queue's worker (services/job_queue.py). The state the pages show is kept
# here, so that any app process can render a job's progress whatever queue runs it.
JOB_KINDS = ("export", "upload")
QUEUED, RUNNING, DONE, FAILED, CANCELLED = "queued", "running", "done", "failed", "cancelled"
JOB_STATUSES = (QUEUED, RUNNING, DONE, FAILED, CANCELLED)
ACTIVE_JOB_STATUSES = (QUEUED, RUNNING)


class Job(db.Model):
    """One background job: who asked, how far it is, and how it ended (with its file, for an export)."""

    __tablename__ = "jobs"
    __table_args__ = (
        CheckConstraint("kind IN ('export', 'upload')", name="kind"),
        CheckConstraint("status IN ('queued', 'running', 'done', 'failed', 'cancelled')", name="status"),
        Index("ix_jobs_status_lease", "status", "lease_expires_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(10))
    requested_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    requested_by: Mapped[str] = mapped_column(Text)
    params: Mapped[dict] = mapped_column(JSON, default=dict)
    status: Mapped[str] = mapped_column(String(20), default=QUEUED)
    done: Mapped[int] = mapped_column(Integer, default=0)
    total: Mapped[int | None] = mapped_column(Integer)
    message: Mapped[str | None] = mapped_column(Text)
    cancel_requested: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # A running job's worker renews this as it makes progress; past it, the worker is taken for dead.
    lease_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    result_path: Mapped[str | None] = mapped_column(Text)
    result_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    export_run_id: Mapped[int | None] = mapped_column(ForeignKey("export_runs.id", ondelete="SET NULL"))
    import_run_id: Mapped[int | None] = mapped_column(ForeignKey("import_runs.id", ondelete="SET NULL"))
