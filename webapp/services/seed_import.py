"""Seed import: files on disk into articles, idempotent by identity (the file stem).

An unchanged file (same sha256) is skipped without parsing; a changed file updates its
article while nobody has moderated it, and is a conflict afterwards. Files are read,
parsed and written in batches, each batch one transaction of bulk statements.

A file that fails in an unexpected way (a bug, a database error) is refused with a message, its
traceback logged, and the import goes on: a batch that fails is rolled back whole and tried again
file by file, so nothing of the bad file is stored and nothing of the good ones is lost.
"""

from __future__ import annotations

import glob
import hashlib
import logging
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import delete, insert, select, update
from sqlalchemy.exc import SQLAlchemyError

from ..formats.duplicates import LinkFields, Suggestion, related_suggestions, suggestion_rows
from ..formats.seeds import HEAT_UNSET, Seed, SeedError, check_size, first_image_url, parse_bytes
from ..models import (
    PENDING,
    Article,
    AuditEvent,
    DuplicateSuggestion,
    RelatedLink,
    Topic,
    article_topics,
    db,
    utcnow,
)
from . import metrics, rollups
from .story_index import OWN, KeySource, forget_articles, index_articles

SEED_SUFFIXES = (".md", ".txt")
BATCH_SIZE = 500
MAX_MESSAGE = 300  # characters of an unexpected error's text in the report (the log has it all)

logger = logging.getLogger(__name__)


IMPORTED, UPDATED, UNCHANGED, INVALID, CONFLICT = "imported", "updated", "unchanged", "invalid", "conflict"


@dataclass(frozen=True, slots=True)
class FileOutcome:
    """What became of one file, in the order the import settled them."""

    file: str
    outcome: str  # IMPORTED, UPDATED, UNCHANGED, INVALID or CONFLICT
    message: str = ""
    # Refused for a fault of ours or the database's rather than the file's: the same file may import later.
    retry: bool = False


@dataclass
class ImportReport:
    imported: int = 0
    updated: int = 0
    unchanged: int = 0
    conflicts: int = 0
    invalid: int = 0
    errors: list[dict[str, str]] = field(default_factory=list)
    conflicting: list[dict[str, str]] = field(default_factory=list)
    outcomes: list[FileOutcome] = field(default_factory=list)

    def refuse(self, path: Path | str, message: str, *, retry: bool = False) -> None:
        self.invalid += 1
        self.errors.append({"file": str(path), "message": message})
        self.outcomes.append(FileOutcome(str(path), INVALID, message, retry))

    def settle(self, paths: Iterable[Path], outcome: str) -> None:
        """Note files imported, updated or unchanged (their counts are the caller's)."""
        self.outcomes.extend(FileOutcome(str(path), outcome) for path in paths)

    def conflict(self, path: Path, message: str) -> None:
        self.conflicts += 1
        self.conflicting.append({"file": str(path), "message": message})
        self.outcomes.append(FileOutcome(str(path), CONFLICT, message))

    def as_dict(self) -> dict:
        return {
            "imported": self.imported,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "conflicts": self.conflicts,
            "invalid": self.invalid,
            "errors": self.errors,
            "conflicting": self.conflicting,
        }


@dataclass(eq=False)
class _SeedFile:
    path: Path
    identity: str
    data: bytes
    digest: str
    text: str = ""
    seed: Seed | None = None
    article_id: int | None = None
    version: int | None = None
    suggestions: list[Suggestion] = field(default_factory=list)


def find_seed_files(specs: Iterable[str], report: ImportReport) -> list[Path]:
    """Expand files, folders (recursively: *.md and *.txt) and glob patterns, in a stable order."""
    found: dict[Path, None] = {}
    for spec in specs:
        matches = (
            [Path(spec)]
            if Path(spec).exists()
            else [Path(p) for p in sorted(glob.glob(spec, recursive=True))]
        )
        if not matches:
            report.refuse(spec, "no such file or folder (nor any file matching it as a pattern)")
        for match in matches:
            if match.is_dir():
                found.update(dict.fromkeys(p for p in sorted(match.rglob("*")) if is_seed_file(p)))
            else:
                found[match] = None
    return list(found)


def is_seed_file(path: Path) -> bool:
    """A file a folder's import takes: `*.md` or `*.txt`, not hidden (a writer's temporary name)."""
    return path.suffix.lower() in SEED_SUFFIXES and path.is_file() and not path.name.startswith(".")


def import_paths(specs: Iterable[str], *, max_bytes: int, batch_size: int = BATCH_SIZE) -> ImportReport:
    """Import every seed file named by `specs` (files, folders, glob patterns)."""
    report = ImportReport()
    import_files(find_seed_files(specs, report), report, max_bytes=max_bytes, batch_size=batch_size)
    return report


def import_files(
    paths: list[Path],
    report: ImportReport,
    *,
    max_bytes: int,
    batch_size: int = BATCH_SIZE,
    on_progress: Callable[[int], None] | None = None,
) -> ImportReport:
    """Import these seed files in batches, recording what happened to each in `report`."""
    importer = _Importer(report, max_bytes)
    with metrics.timed(metrics.IMPORT_SECONDS):
        try:
            for batch in _chunks(paths, batch_size):
                importer.import_batch(batch)
                if on_progress:
                    on_progress(len(batch))
        finally:
            metrics.count_seed_files(report)
    return report


class _Importer:
    def __init__(self, report: ImportReport, max_bytes: int):
        self.report = report
        self.max_bytes = max_bytes
        self.seen_identities: dict[str, Path] = {}
        self.topic_ids: dict[str, int] = {}
        self.settled: set[Path] = set()  # files whose outcome is in the report

    def import_batch(self, paths: list[Path]) -> None:
        """Import one batch in one transaction; if it fails, roll it back and import its files one by one."""
        try:
            self._import_batch(paths)
        except Exception as error:
            self._rollback()
            rest = [path for path in paths if path not in self.settled]
            if len(paths) > 1:
                logger.warning(
                    "a batch of %d seed files failed; importing them one by one", len(paths), exc_info=True
                )
                for path in rest:
                    self.import_batch([path])
            elif rest:
                self._refuse_after(rest[0], error, "storing")
            else:
                logger.error("seed file %s: error after it was stored", paths[0], exc_info=True)

    def _import_batch(self, paths: list[Path]) -> None:
        files = [f for f in (self._read(path) for path in paths) if f is not None]
        existing = self._existing({f.identity for f in files})
        fresh, changed = [], []
        for seed_file in files:
            known = existing.get(seed_file.identity)
            if known and known.content_hash == seed_file.digest:
                self.report.unchanged += 1
                self.report.settle([seed_file.path], UNCHANGED)
                self.settled.add(seed_file.path)
            elif self._parse(seed_file):
                if known:
                    seed_file.article_id, seed_file.version = known.id, known.version
                    changed.append(seed_file)
                else:
                    fresh.append(seed_file)
        self._write(fresh, self._drop_moderated(changed, existing))

    def _refuse(self, path: Path, message: str, *, retry: bool = False) -> None:
        self.report.refuse(path, message, retry=retry)
        self.settled.add(path)

    def _refuse_after(self, path: Path, error: Exception, doing: str) -> None:
        """Refuse a file for an error no check foresaw; the log keeps the traceback."""
        if isinstance(error, SQLAlchemyError):
            message = f"could not be stored: {getattr(error, 'orig', None) or error}"
        else:
            message = f"internal error while {doing}: {type(error).__name__}: {error}"
        message = message.splitlines()[0]
        if len(message) > MAX_MESSAGE:
            message = message[: MAX_MESSAGE - 1] + "…"
        logger.error("seed file %s refused: %s", path, message, exc_info=error)
        self._refuse(path, message, retry=True)

    def _rollback(self) -> None:
        db.session.rollback()
        self.topic_ids.clear()  # topics inserted by the failed transaction are gone

    def _read(self, path: Path) -> _SeedFile | None:
        identity = path.stem
        if _undecodable(identity):
            self._refuse(path, "file name: not UTF-8 (the name is the article's identity); rename it")
            return None
        first = self.seen_identities.setdefault(identity, path)
        if first != path:
            self._refuse(path, f"same identity {identity!r} as {first} in this import; rename one of them")
            return None
        try:
            check_size(path.stat().st_size, self.max_bytes)  # before reading a huge file into memory
            data = path.read_bytes()
        except SeedError as error:
            self._refuse(path, str(error))
            return None
        except OSError as error:
            self._refuse(path, f"cannot be read: {error.strerror or error}", retry=True)
            return None
        except Exception as error:
            self._refuse_after(path, error, "reading")
            return None
        return _SeedFile(path, identity, data, hashlib.sha256(data).hexdigest())

    def _parse(self, seed_file: _SeedFile) -> bool:
        try:
            seed_file.text, seed_file.seed = parse_bytes(seed_file.data, self.max_bytes)
            seed_file.suggestions = seed_suggestions(seed_file.seed)
        except SeedError as error:
            self._refuse(seed_file.path, str(error))
            return False
        except Exception as error:
            self._refuse_after(seed_file.path, error, "reading")
            return False
        return True

    def _existing(self, identities: set[str]) -> dict:
        if not identities:
            return {}
        rows = db.session.execute(
            select(Article.identity, Article.id, Article.content_hash, Article.version, Article.status).where(
                Article.identity.in_(identities)
            )
        )
        return {row.identity: row for row in rows}

    def _drop_moderated(self, changed: list[_SeedFile], existing: dict) -> list[_SeedFile]:
        if not changed:
            return changed
        acted_on = set(
            db.session.scalars(
                select(AuditEvent.article_id).where(
                    AuditEvent.article_id.in_([f.article_id for f in changed])
                )
            )
        )
        still_pending = []
        for seed_file in changed:
            known = existing[seed_file.identity]
            if known.status != PENDING or known.id in acted_on:
                self._conflict(
                    seed_file,
                    f"changed, but the article was already moderated ({known.status}); kept the moderation",
                )
            else:
                still_pending.append(seed_file)
        return still_pending

    def _conflict(self, seed_file: _SeedFile, message: str) -> None:
        self.report.conflict(seed_file.path, message)
        self.settled.add(seed_file.path)

    def _write(self, fresh: list[_SeedFile], changed: list[_SeedFile]) -> None:
        now = utcnow()
        counted_before = rollups.import_facts(f.article_id for f in changed)
        updated = [f for f in changed if self._update_article(f, now)]
        if fresh:
            rows = [article_row(f, now) for f in fresh]
            ids = db.session.scalars(
                insert(Article.__table__).returning(Article.id, sort_by_parameter_order=True), rows
            ).all()
            for seed_file, article_id in zip(fresh, ids, strict=True):
                seed_file.article_id = article_id
        self._insert_children(fresh + updated)
        rollups.record_imports(
            {f.article_id: counted_before[f.article_id] for f in updated},
            rollups.import_facts(f.article_id for f in fresh + updated),
        )
        index_articles({f.article_id: key_sources(f.seed) for f in fresh + updated})
        db.session.commit()
        self.report.imported += len(fresh)
        self.report.updated += len(updated)
        self.report.settle((f.path for f in fresh), IMPORTED)
        self.report.settle((f.path for f in updated), UPDATED)
        self.settled.update(f.path for f in fresh + updated)
        for seed_file in changed:
            if seed_file not in updated:
                self._conflict(
                    seed_file, "changed, but someone moderated it during the import; kept the moderation"
                )

    def _update_article(self, seed_file: _SeedFile, now) -> bool:
        values = article_row(seed_file, now)
        del values["imported_at"]
        result = db.session.execute(
            update(Article.__table__)
            .where(Article.id == seed_file.article_id, Article.version == seed_file.version)
            .values(version=Article.version + 1, **values)
        )
        if result.rowcount != 1:
            return False
        db.session.execute(
            delete(RelatedLink.__table__).where(RelatedLink.article_id == seed_file.article_id)
        )
        db.session.execute(
            delete(DuplicateSuggestion.__table__).where(
                DuplicateSuggestion.article_id == seed_file.article_id
            )
        )
        db.session.execute(delete(article_topics).where(article_topics.c.article_id == seed_file.article_id))
        forget_articles([seed_file.article_id])
        return True

    def _insert_children(self, files: list[_SeedFile]) -> None:
        related = [row for f in files for row in related_rows(f.article_id, f.seed)]
        if related:
            db.session.execute(insert(RelatedLink.__table__), related)
        suggestions = [row for f in files for row in suggestion_rows(f.article_id, f.suggestions)]
        if suggestions:
            db.session.execute(insert(DuplicateSuggestion.__table__), suggestions)
        topic_rows = []
        self._ensure_topics({name for f in files for name in f.seed.topics or ()})
        for seed_file in files:
            names = dict.fromkeys(seed_file.seed.topics or ())  # a topic listed twice is one tag
            topic_rows += [
                {"article_id": seed_file.article_id, "topic_id": self.topic_ids[name], "position": position}
                for position, name in enumerate(names)
            ]
        if topic_rows:
            db.session.execute(insert(article_topics), topic_rows)

    def _ensure_topics(self, names: set[str]) -> None:
        missing = names - self.topic_ids.keys()
        if not missing:
            return
        for topic in db.session.execute(select(Topic.name, Topic.id).where(Topic.name.in_(missing))):
            self.topic_ids[topic.name] = topic.id
        still_missing = sorted(missing - self.topic_ids.keys())
        if still_missing:
            ids = db.session.scalars(
                insert(Topic.__table__).returning(Topic.id, sort_by_parameter_order=True),
                [{"name": name} for name in still_missing],
            ).all()
            self.topic_ids.update(zip(still_missing, ids, strict=True))


def seed_suggestions(seed: Seed) -> list[Suggestion]:
    """The groups of a seed's related entries that look like one article."""
    return related_suggestions(
        LinkFields(position, entry.title, entry.web_url, entry.amp_web_url, entry.cdn_amp_web_url)
        for position, entry in enumerate(seed.related or ())
    )


def article_row(seed_file: _SeedFile, now) -> dict:
    """A new `articles` row for a parsed seed file; the file is left as it was."""
    seed = seed_file.seed
    return {
        "identity": seed_file.identity,
        "source_name": seed_file.path.name,
        "content_hash": seed_file.digest,
        "source_text": seed_file.text,
        "category": seed.category,
        "title": seed.title,
        "excerpt": seed.excerpt,
        "published_at": seed.published_at,
        "original_url": seed.original_url,
        "web_url": seed.web_url,
        "amp_web_url": seed.amp_web_url,
        "cdn_amp_web_url": seed.cdn_amp_web_url,
        "type": seed.type,
        "quality": seed.quality,
        "heat": HEAT_UNSET if seed.heat is None else seed.heat,
        "seed_published": seed.published,
        "provider_name": seed.provider.name,
        "provider_domain": seed.provider.domain,
        "provider_extra": seed.provider.extra or None,
        "images": seed.images,
        "image_url": first_image_url(seed.images),
        "secured": seed.secured,
        "extra": seed.extra or None,
        "key_order": seed.key_order,
        "body": seed.body,
        "related_titles": related_titles(seed),
        "related_count": len(seed.related or ()),
        "suggestion_count": len(seed_file.suggestions),
        "imported_at": now,
        "updated_at": now,
    }


def related_titles(seed: Seed) -> str:
    """What the search reads of a seed's related list: its titles, one a line."""
    return "\n".join(entry.title for entry in seed.related or ())


def related_rows(article_id: int, seed: Seed) -> Iterator[dict]:
    """The `related_links` rows for a seed's related list, in order."""
    for position, entry in enumerate(seed.related or ()):
        provider = entry.provider
        yield {
            "article_id": article_id,
            "position": position,
            "title": entry.title,
            "excerpt": entry.excerpt,
            "published_at": entry.published_at,
            "web_url": entry.web_url,
            "amp_web_url": entry.amp_web_url,
            "cdn_amp_web_url": entry.cdn_amp_web_url,
            "type": entry.type,
            "quality": entry.quality,
            "provider_name": provider.name if provider else None,
            "provider_domain": provider.domain if provider else None,
            "provider_extra": (provider.extra or None) if provider else None,
            "images": entry.images,
            "extra": entry.extra or None,
            "key_order": entry.key_order,
            "merged_into_id": None,
        }


def key_sources(seed: Seed) -> list[KeySource]:
    """What the story index keys a seed by: its own URLs and headline, and its related entries'."""
    own = KeySource(
        OWN, seed.title, (seed.web_url, seed.original_url, seed.amp_web_url, seed.cdn_amp_web_url)
    )
    return [own] + [
        KeySource(position, entry.title, (entry.web_url, entry.amp_web_url, entry.cdn_amp_web_url))
        for position, entry in enumerate(seed.related or ())
    ]


def _undecodable(name: str) -> bool:
    """A file name that is not UTF-8: its bytes come to Python as lone surrogates, which no database takes."""
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def _chunks(items: list, size: int) -> Iterator[list]:
    for start in range(0, len(items), size):
        yield items[start : start + size]
