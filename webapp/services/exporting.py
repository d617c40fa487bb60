"""Export approved articles in the seed format: what is chosen, how it is written, and the record of runs.

Formats:
- `dir`: one seed file per article, under the name it was imported with;
- `zip`: the `dir` layout in one archive;
- `yaml`: one multi-document YAML stream, one front-matter mapping per article, its body
  (when it has one) under `copydesk.body`.

Articles are read from the database in batches (`yield_per`) and written as they come.
Nothing half-written ever takes the output's name: files and archives are written under a
temporary name beside it and renamed when complete. A folder (`dir`) is a symbolic link to
a complete version of it: each run builds a fresh version in the hidden folder `.NAME.copydesk`
beside it (its own files, and hard links to the files of the version before), then swaps the
link in one rename, so a reader sees the old complete set or the new one, never a part.

A run records the process that writes it (host, pid and the process's start time). A run
left "running" by a process that is gone is marked interrupted, and the staging folders and
temporary files of runs no live process is writing are removed: at the start of each export
(for its output) and by `sweep()` (`flask export --cleanup`, for every recorded output).

A feed run (`--since-last`) exports the approved articles that no complete feed run has
exported at their current version: nothing twice, nothing missed, whatever the clocks say;
an article changed after its export (its heat, a merge) goes out again. Other runs (`--since`,
downloads from the Export page) are recorded too but leave the feed where it was.
"""

from __future__ import annotations

import contextlib
import ctypes
import fcntl
import hashlib
import os
import re
import shutil
import tempfile
import zipfile
from array import array
from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import BinaryIO

from sqlalchemy import and_, exists, func, insert, select, update
from sqlalchemy.orm import aliased

from ..formats.seed_writer import ExportCheckError, Moderation, exported_front_matter, exported_seed
from ..formats.seeds import front_matter_span
from ..models import (
    APPROVED,
    Article,
    ExportedArticle,
    ExportRun,
    RelatedLink,
    User,
    db,
    utcnow,
)
from . import metrics
from .filtering import end_of_day, has_topic, parse_days, provider_matches, provider_pattern, start_of_day
from .processes import process_alive, this_process

FORMATS = ("dir", "zip", "yaml")
BATCH_SIZE = 500
STAGING_PREFIX = ".copydesk-export-"  # an older version's staging folder inside a `dir` output
VERSIONS_SUFFIX = ".copydesk"  # `.NAME.copydesk` beside a `dir` output holds its versions
_VERSION = re.compile(r"(run|before)-(\d+)")
_VERSION_STAGING = re.compile(r"(?:run|link)-(\d+)\.tmp")
_OLD_STAGING = re.compile(re.escape(STAGING_PREFIX) + r"(\d+)\.tmp")


class ExportError(ValueError):
    """An export that cannot be done as asked; the message says why."""


@dataclass(frozen=True)
class ExportFilters:
    """Which approved articles to export. Times are UTC; `until` is exclusive."""

    since: datetime | None = None
    until: datetime | None = None
    topic: str | None = None
    provider: str | None = None
    category: str | None = None
    since_last: bool = False

    def as_args(self) -> dict[str, str]:
        """The Export page's query arguments that choose these filters (both days included)."""
        args = {
            "approved_from": self.since.date().isoformat() if self.since else "",
            "approved_to": (self.until - timedelta(days=1)).date().isoformat() if self.until else "",
            "topic": self.topic,
            "category": self.category,
            "provider": self.provider,
        }
        return {name: value for name, value in args.items() if value}

    def as_dict(self) -> dict:
        return {
            key: value.isoformat() if isinstance(value, datetime) else value
            for key, value in asdict(self).items()
            if value not in (None, False)
        }

    @classmethod
    def from_dict(cls, values: dict) -> ExportFilters:
        """The filters `as_dict` gave (a job's parameters)."""
        times = {key: datetime.fromisoformat(values[key]) for key in ("since", "until") if values.get(key)}
        return cls(**(values | times))


def parse_time(text: str, name: str) -> datetime:
    """An ISO 8601 date or date and time; without a zone it is UTC."""
    try:
        value = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        raise ExportError(
            f"{name}: {text!r} is not a date or time like 2023-10-19 or 2023-10-19T13:22:00Z."
        ) from None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def parse_filters(values) -> tuple[ExportFilters, dict[str, str]]:
    """Filters from the Export page's form: dates approved from and to (both days included)."""
    days, errors = parse_days(values, {"approved_from": "Approved from", "approved_to": "Approved to"})
    start, end = days["approved_from"], days["approved_to"]
    filters = ExportFilters(
        since=start_of_day(start) if start else None,
        until=end_of_day(end) if end else None,
        topic=(values.get("topic") or "").strip() or None,
        provider=(values.get("provider") or "").strip() or None,
        category=(values.get("category") or "").strip() or None,
    )
    return filters, errors


def _conditions(filters: ExportFilters) -> list:
    conditions = [Article.status == APPROVED]
    if filters.since:
        conditions.append(Article.decided_at >= filters.since)
    if filters.until:
        conditions.append(Article.decided_at < filters.until)
    if filters.provider:
        conditions.append(provider_matches(provider_pattern(filters.provider)))
    if filters.category:
        conditions.append(Article.category == filters.category)
    if filters.topic:
        conditions.append(has_topic(filters.topic))
    if filters.since_last:
        conditions.append(
            ~exists()
            .where(ExportedArticle.article_id == Article.id)
            .where(ExportedArticle.version == Article.version)
            .where(ExportRun.id == ExportedArticle.run_id)
            .where(ExportRun.status == "complete")
            .where(ExportRun.feed.is_(True))
        )
    return conditions


def count(filters: ExportFilters) -> int:
    """How many articles an export with these filters would write now."""
    return db.session.scalar(select(func.count()).select_from(Article).where(*_conditions(filters)))


def recent_runs(limit: int = 50) -> list[ExportRun]:
    return list(db.session.scalars(select(ExportRun).order_by(ExportRun.id.desc()).limit(limit)))


def export(
    out: Path | BinaryIO,
    fmt: str,
    filters: ExportFilters,
    *,
    requested_by: str,
    requested_by_id: int | None = None,
    on_progress: Callable[[int], None] | None = None,
) -> ExportRun:
    """Write the approved articles `filters` choose to `out` and record the run.

    `out` is a path (a folder for `dir`), or a binary stream for `yaml`. On any failure
    nothing is left under the output's name and the run is recorded as failed. `on_progress(n)`
    is called with the number of articles written so far, every BATCH_SIZE articles; what it
    raises stops the export as a failure would.
    """
    if fmt not in FORMATS:
        raise ExportError(f"format must be one of {', '.join(FORMATS)}, not {fmt!r}")
    if not isinstance(out, Path) and fmt != "yaml":
        raise ExportError(f"only the yaml format can be written to a stream, not {fmt}")
    if isinstance(out, Path):
        out = Path(os.path.abspath(out))  # not resolve(): a `dir` output is a link to follow no further
        sweep([out])
    with metrics.timed(metrics.EXPORT_SECONDS, format=fmt):
        run = _run(out, fmt, filters, requested_by, requested_by_id, on_progress)
    metrics.EXPORTED_ARTICLES.labels(fmt).inc(run.count)
    return run


def _run(
    out: Path | BinaryIO,
    fmt: str,
    filters: ExportFilters,
    requested_by: str,
    requested_by_id: int | None,
    on_progress: Callable[[int], None] | None,
) -> ExportRun:
    """Record the run, write the articles, and record how it ended (see `export`)."""
    host, pid, process_start = this_process()
    run = ExportRun(
        requested_by=requested_by,
        requested_by_id=requested_by_id,
        format=fmt,
        filters=filters.as_dict(),
        feed=filters.since_last,
        output=str(out) if isinstance(out, Path) else None,
        host=host,
        pid=pid,
        process_start=process_start,
    )
    db.session.add(run)
    db.session.commit()
    run_id = run.id
    writer = _writer(fmt, out, run_id)
    rows = _approved_rows(filters)
    try:
        written_ids, written_versions = array("q"), array("q")  # 16 bytes an article, inserted at the end
        for row, merges, added in rows:
            writer.add(
                row.source_name,
                _document(fmt, row, Moderation(row.approved_by, row.decided_at, run_id), merges, added),
            )
            written_ids.append(row.id)
            written_versions.append(row.version)
            if on_progress and len(written_ids) % BATCH_SIZE == 0:
                on_progress(len(written_ids))
        digest = writer.finish()
        # Recorded only now, in one short write: SQLite would otherwise hold its write lock,
        # and keep moderators waiting, for the whole export.
        for start in range(0, len(written_ids), 5000):
            db.session.execute(
                insert(ExportedArticle),
                [
                    {"run_id": run_id, "article_id": article_id, "version": version}
                    for article_id, version in zip(
                        written_ids[start : start + 5000], written_versions[start : start + 5000], strict=True
                    )
                ],
            )
        db.session.execute(
            update(ExportRun)
            .where(ExportRun.id == run_id)
            .values(status="complete", finished_at=utcnow(), count=len(written_ids), sha256=digest)
        )
        db.session.commit()
    except BaseException as error:
        rows.close()  # closes the database cursor before the rollback
        writer.abort()
        db.session.rollback()
        db.session.execute(
            update(ExportRun)
            .where(ExportRun.id == run_id)
            .values(status="failed", finished_at=utcnow(), error=str(error)[:500] or type(error).__name__)
        )
        db.session.commit()
        raise
    return db.session.get(ExportRun, run_id, populate_existing=True)


def _approved_rows(filters: ExportFilters) -> Iterator[tuple]:
    """(row, merges, added related entries) per article, oldest approval first, read in batches."""
    conditions = _conditions(filters)
    merges = _merges(conditions)
    added = _added_entries(conditions)
    statement = (
        select(
            Article.id,
            Article.version,
            Article.source_name,
            Article.source_text,
            Article.heat,
            Article.decided_at,
            User.username.label("approved_by"),
        )
        .outerjoin(User, User.id == Article.decided_by_id)
        .where(*conditions)
        .order_by(Article.decided_at, Article.id)
        .execution_options(yield_per=BATCH_SIZE)
    )
    result = db.session.execute(statement)
    try:
        for row in result:
            yield row, merges.get(row.id), added.get(row.id)
    finally:
        result.close()


def _merges(conditions: list) -> dict[int, dict[int, list[int]]]:
    """For each article with merged related links: canonical position -> merged positions."""
    canonical = aliased(RelatedLink)
    rows = db.session.execute(
        select(RelatedLink.article_id, canonical.position, RelatedLink.position)
        .join(canonical, canonical.id == RelatedLink.merged_into_id)
        .join(Article, Article.id == RelatedLink.article_id)
        .where(and_(*conditions))
    )
    merges: dict[int, dict[int, list[int]]] = defaultdict(lambda: defaultdict(list))
    for article_id, canonical_position, position in rows:
        merges[article_id][canonical_position].append(position)
    return {article_id: dict(groups) for article_id, groups in merges.items()}


def _added_entries(conditions: list) -> dict[int, dict[int, dict]]:
    """Related entries taken in from duplicate articles (not in the seed's text), in the seed format."""
    links = db.session.scalars(
        select(RelatedLink)
        .join(Article, Article.id == RelatedLink.article_id)
        .where(and_(*conditions), RelatedLink.source_article_id.is_not(None))
    )
    added: dict[int, dict[int, dict]] = defaultdict(dict)
    for link in links:
        added[link.article_id][link.position] = seed_entry(link)
    return dict(added)


def seed_entry(link: RelatedLink) -> dict:
    """A stored related link back as the mapping its seed held, keys in the seed's order."""
    provider = None
    if link.provider_name is not None or link.provider_domain is not None or link.provider_extra:
        provider = {"name": link.provider_name}
        if link.provider_domain is not None:
            provider["domain"] = link.provider_domain
        provider |= link.provider_extra or {}
    known = {
        "title": link.title,
        "excerpt": link.excerpt,
        "publishedDateTime": link.published_at,
        "webUrl": link.web_url,
        "ampWebUrl": link.amp_web_url,
        "cdnAmpWebUrl": link.cdn_amp_web_url,
        "type": link.type,
        "quality": link.quality,
        "provider": provider,
        "images": link.images,
    }
    extra = link.extra or {}
    return {
        key: known[key] if key in known else extra[key]
        for key in link.key_order
        if key in extra or key in known
    }


def _document(fmt: str, row, moderation: Moderation, merges, added) -> bytes:
    """One article's exported document, read back before it is written (see seed_writer)."""
    try:
        if fmt == "yaml":
            return _stream_document(row, moderation, merges, added)
        text = exported_seed(
            row.source_text, heat=row.heat, moderation=moderation, merges=merges, added=added
        )
        return text.encode("utf-8")
    except ExportCheckError as error:
        raise ExportError(f"{row.source_name} (article {row.id}) cannot be exported: {error}") from None


def _stream_document(row, moderation: Moderation, merges, added) -> bytes:
    text = row.source_text.removeprefix("\ufeff")
    start, end, body_start = front_matter_span(text)
    body = text[body_start:]
    moderation = Moderation(
        moderation.approved_by, moderation.approved_at, moderation.export_run, body or None
    )
    front_matter = exported_front_matter(
        text[start:end], heat=row.heat, moderation=moderation, merges=merges, added=added
    )
    # A byte-order mark belongs at the start of a file, not after a `---` inside a stream.
    return ("---\n" + front_matter.removeprefix("\ufeff")).encode("utf-8")


def _writer(fmt: str, out: Path | BinaryIO, run_id: int):
    if fmt == "dir":
        return _FolderWriter(out, run_id)
    if fmt == "zip":
        return _ZipWriter(out, run_id)
    return _StreamWriter(out, run_id)


@dataclass
class Cleanup:
    """What `sweep` did: the runs it marked interrupted and the leftovers it removed."""

    interrupted: list[int]
    removed: list[Path]
    unknown: list[int]  # running on another host: whether their process lives cannot be told here


def sweep(outputs: list[Path] | None = None) -> Cleanup:
    """Mark runs whose process is gone interrupted, then remove leftovers no live run is writing:
    beside each of `outputs`, or (None) beside every output a run recorded."""
    interrupted, live, unknown = [], set(), []
    for run in db.session.scalars(select(ExportRun).where(ExportRun.status == "running")):
        alive = process_alive(run)
        if alive is False:
            where = f"{run.host}:{run.pid}" if run.host else "a process of an older version"
            run.status, run.finished_at = "interrupted", utcnow()
            run.error = f"interrupted: {where} ended without finishing the export"
            interrupted.append(run.id)
        else:
            live.add(run.id)
            if alive is None:
                unknown.append(run.id)
    db.session.commit()
    if outputs is None:
        recorded = db.session.scalars(
            select(ExportRun.output).where(ExportRun.output.is_not(None)).distinct()
        )
        outputs = [Path(output) for output in recorded]
    removed = []
    for output in outputs:
        removed.extend(_remove_leftovers(output, live))
    return Cleanup(interrupted, removed, unknown)


def _remove_leftovers(output: Path, live: set[int]) -> list[Path]:
    """Staging folders and temporary files beside (or in) `output` that no live run is writing."""
    removed = []

    def remove(path: Path) -> None:
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path, ignore_errors=True)
        else:
            path.unlink(missing_ok=True)
        removed.append(path)

    parent, name = output.parent, output.name
    versions = parent / f".{name}{VERSIONS_SUFFIX}"
    if versions.is_dir():
        for entry in versions.iterdir():
            match = _VERSION_STAGING.fullmatch(entry.name)
            if match and int(match.group(1)) not in live:
                remove(entry)
        for entry in _stale_versions(output, versions, live):
            remove(entry)
    if output.is_dir() and not output.is_symlink():  # a folder an older version wrote into
        for entry in output.iterdir():
            match = _OLD_STAGING.fullmatch(entry.name)
            if match and int(match.group(1)) not in live:
                remove(entry)
    if parent.is_dir():
        prefix = f".{name}."
        for entry in parent.iterdir():
            if not (entry.name.startswith(prefix) and entry.name.endswith(".tmp")):
                continue
            match = re.fullmatch(r"copydesk-(\d+)-.*", entry.name[len(prefix) : -len(".tmp")])
            # An older version named its temporary files without the run: those go when no run writes here.
            if (int(match.group(1)) if match else None) not in live and (match or not live):
                remove(entry)
    return removed


def _stale_versions(output: Path, versions: Path, live: set[int] | None = None) -> list[Path]:
    """Versions of a `dir` output but the one its link names and the newest other, which a
    reader that resolved the link just before the last swap may still be reading. With `live`
    (a sweep), a version its run never linked (killed just before the swap) goes too."""
    current = os.readlink(output) if output.is_symlink() else None
    others = sorted(
        (int(m.group(2)), m.group(1), entry)
        for entry in versions.iterdir()
        if (m := _VERSION.fullmatch(entry.name)) and f"{versions.name}/{entry.name}" != current
    )
    if live is None:
        return [entry for _, _, entry in others[:-1]]
    finished = set(
        db.session.scalars(
            select(ExportRun.id).where(
                ExportRun.id.in_([n for n, kind, _ in others if kind == "run"]),
                ExportRun.status == "complete",
            )
        )
    )
    unlinked = [e for n, kind, e in others if kind == "run" and n not in finished and n not in live]
    kept = [(n, kind, e) for n, kind, e in others if e not in unlinked]
    return unlinked + [entry for _, _, entry in kept[:-1]]


def _check_name(name: str) -> None:
    if not name or name != os.path.basename(name) or name.startswith("."):
        raise ExportError(f"{name!r} cannot be an exported file name")


class _FolderWriter:
    """Seed files into a fresh version of the folder beside it; the link `out` swapped to it at the end."""

    def __init__(self, out: Path, run_id: int):
        self.out = out
        self.versions = out.parent / f".{out.name}{VERSIONS_SUFFIX}"
        self.current = self._current_version()
        self.versions.mkdir(parents=True, exist_ok=True)
        self.lock = os.open(self.versions / ".lock", os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(self.lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(self.lock)
            raise ExportError(f"another export is writing {out} now; try again when it is done") from None
        self.run_id = run_id
        self.staging = self.versions / f"run-{run_id}.tmp"
        self.final = self.versions / f"run-{run_id}"
        self.link = self.versions / f"link-{run_id}.tmp"
        self.staging.mkdir()
        self.names: dict[str, None] = {}  # in the order written
        self.digest = hashlib.sha256()

    def _current_version(self) -> Path | None:
        """The folder whose files the new version keeps: the link's target, or a plain folder."""
        out = self.out
        if out.is_symlink():
            target = os.readlink(out)
            if Path(target).parent != Path(self.versions.name) or not (out.parent / target).is_dir():
                raise ExportError(f"{out} is a symbolic link to {target}, not to a folder an export wrote")
            return out.parent / target
        if not out.exists():
            return None
        if not out.is_dir():
            raise ExportError(f"{out} is a file; the dir format writes into a folder")
        folders = [e.name for e in out.iterdir() if e.is_dir() and not _OLD_STAGING.fullmatch(e.name)]
        if folders:
            raise ExportError(
                f"{out} holds folders ({', '.join(sorted(folders)[:3])}); give a folder of its own"
            )
        return out

    def add(self, name: str, data: bytes) -> None:
        _check_name(name)
        if name in self.names:
            raise ExportError(f"two articles would be written as {name!r}")
        (self.staging / name).write_bytes(data)  # a new file: never through a link to the old version
        self.names[name] = None
        self.digest.update(f"{name}\n{hashlib.sha256(data).hexdigest()}\n".encode())

    def finish(self) -> str:
        if self.current is not None:
            for entry in os.scandir(self.current):
                name = entry.name
                if (
                    entry.is_file(follow_symlinks=False)
                    and not name.startswith(".")
                    and name not in self.names
                ):
                    os.link(entry.path, self.staging / entry.name)
        os.rename(self.staging, self.final)
        os.symlink(f"{self.versions.name}/{self.final.name}", self.link)
        if self.out.is_dir() and not self.out.is_symlink():
            # A plain folder cannot be replaced by a link in one rename: exchange the two.
            _exchange(self.link, self.out)
            os.rename(self.link, self.versions / f"before-{self.run_id}")
        else:
            os.replace(self.link, self.out)
        for stale in _stale_versions(self.out, self.versions):
            shutil.rmtree(stale, ignore_errors=True)
        os.close(self.lock)
        return self.digest.hexdigest()

    def abort(self) -> None:
        shutil.rmtree(self.staging, ignore_errors=True)
        if not (self.out.is_symlink() and os.readlink(self.out).endswith(f"/{self.final.name}")):
            shutil.rmtree(self.final, ignore_errors=True)
        with contextlib.suppress(OSError):
            self.link.unlink(missing_ok=True)
            os.close(self.lock)


def _exchange(first: Path, second: Path) -> None:
    """Swap two names in one step (Linux renameat2 RENAME_EXCHANGE); elsewhere in two renames,
    between which `second` is briefly absent."""
    renameat2 = getattr(ctypes.CDLL(None, use_errno=True), "renameat2", None)
    at_fdcwd, rename_exchange = -100, 2
    first_name, second_name = os.fsencode(first), os.fsencode(second)
    if renameat2 is not None and renameat2(at_fdcwd, first_name, at_fdcwd, second_name, rename_exchange) == 0:
        return
    aside = second.with_name(f".{second.name}.aside.tmp")
    os.rename(second, aside)
    os.rename(first, second)
    os.rename(aside, first)


class _AtomicFile:
    """A file written under a temporary name beside `path`, renamed to it when complete."""

    def __init__(self, path: Path, run_id: int):
        if path.is_dir():
            raise ExportError(f"{path} is a folder; this format writes one file")
        if not path.parent.is_dir():
            raise ExportError(f"{path.parent} does not exist")
        self.path = path
        # The run in the name tells `sweep` whether a live export still writes it.
        handle, name = tempfile.mkstemp(
            prefix=f".{path.name}.copydesk-{run_id}-", suffix=".tmp", dir=path.parent
        )
        self.temporary = Path(name)
        self.file = os.fdopen(handle, "w+b")

    def finish(self) -> None:
        self.file.flush()
        os.fsync(self.file.fileno())
        self.file.close()
        os.replace(self.temporary, self.path)

    def abort(self) -> None:
        self.file.close()
        self.temporary.unlink(missing_ok=True)


class _ZipWriter:
    def __init__(self, out: Path, run_id: int):
        self.target = _AtomicFile(out, run_id)
        self.archive = zipfile.ZipFile(
            self.target.file, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=1
        )

    def add(self, name: str, data: bytes) -> None:
        _check_name(name)
        # A fixed time stamp: the same articles always give the same archive.
        entry = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
        entry.compress_type = zipfile.ZIP_DEFLATED
        entry.external_attr = 0o644 << 16
        self.archive.writestr(entry, data, compresslevel=1)

    def finish(self) -> str:
        self.archive.close()
        self.target.file.seek(0)
        digest = hashlib.file_digest(self.target.file, "sha256").hexdigest()
        self.target.finish()
        return digest

    def abort(self) -> None:
        with contextlib.suppress(OSError, ValueError):
            self.archive.close()
        self.target.abort()


class _StreamWriter:
    """The YAML stream: to a file (atomically) or to a stream such as stdout (as it goes)."""

    def __init__(self, out: Path | BinaryIO, run_id: int):
        self.target = _AtomicFile(out, run_id) if isinstance(out, Path) else None
        self.file = self.target.file if self.target else out
        self.digest = hashlib.sha256()

    def add(self, _name: str, document: bytes) -> None:
        self.file.write(document)
        self.digest.update(document)

    def finish(self) -> str:
        self.file.flush()
        if self.target:
            self.target.finish()
        return self.digest.hexdigest()

    def abort(self) -> None:
        if self.target:
            self.target.abort()
