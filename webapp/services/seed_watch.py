"""Watching a folder: seed files that appear or change in it are imported once complete, each import a run.

A file is taken when two looks, `interval` seconds apart, find the same size, modification time and
inode (a writer still writing changes them), or at the first look after it was renamed into place
(the usual way to publish a finished file). The system's notices (inotify, through watchdog) say which
files to look at; on a network filesystem, which sends none for other machines' writes, `polling`
compares the whole folder every interval instead (watchdog's PollingObserver), as the watcher also does
when the system refuses it more notices.

Files are imported exactly as `seeds import` imports them (seed_import, through import_runs): a file
seen again unchanged is not imported again; one refused for a fault of ours or the database's rather
than its own is tried again later, waiting longer each time; a file that changes is imported again.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from watchdog.events import (
    EVENT_TYPE_CREATED,
    EVENT_TYPE_DELETED,
    EVENT_TYPE_MOVED,
    FileSystemEvent,
    FileSystemEventHandler,
)
from watchdog.observers import Observer
from watchdog.observers.polling import PollingObserver

from ..models import db
from .import_runs import WATCHER, ImportStopped, record_import
from .seed_import import BATCH_SIZE, CONFLICT, INVALID, ImportReport, is_seed_file

DEFAULT_INTERVAL = 2.0
RETRY_FIRST = 10.0  # seconds before a file refused for a fault not its own is tried again; doubled each time
RETRY_MAX = 600.0
# Notices that say nothing new of a file's content (the watcher's own reads make the first two).
IGNORED_EVENTS = {"opened", "closed_no_write", "attrib"}

logger = logging.getLogger(__name__)


class WatchError(RuntimeError):
    """The watch itself failed (the folder's notices stopped); the message says how."""


@dataclass(frozen=True)
class Look:
    """What a look at a file found: a writer still writing changes at least one of these."""

    size: int
    mtime_ns: int
    inode: int


@dataclass
class News:
    """What the observer's thread was told of since the watcher last asked."""

    files: set[Path] = field(default_factory=set)  # written to, or created
    renamed: set[Path] = field(default_factory=set)  # renamed into place
    folders: set[Path] = field(default_factory=set)  # appeared: their files may have come unannounced
    gone: set[Path] = field(default_factory=set)  # files deleted, or renamed away
    gone_folders: set[Path] = field(default_factory=set)  # folders deleted, or renamed away


class _Notices(FileSystemEventHandler):
    """The observer's notices, kept for the watcher's next look."""

    def __init__(self):
        self._lock = threading.Lock()
        self._news = News()

    def on_any_event(self, event: FileSystemEvent) -> None:
        if event.event_type in IGNORED_EVENTS:
            return
        kind, source = event.event_type, Path(os.fsdecode(event.src_path))
        with self._lock:
            news = self._news
            if kind in (EVENT_TYPE_DELETED, EVENT_TYPE_MOVED):
                (news.gone_folders if event.is_directory else news.gone).add(source)
            if kind == EVENT_TYPE_MOVED:
                (news.folders if event.is_directory else news.renamed).add(Path(os.fsdecode(event.dest_path)))
            elif kind != EVENT_TYPE_DELETED and not event.is_directory:
                news.files.add(source)
            elif kind == EVENT_TYPE_CREATED:
                news.folders.add(source)

    def take(self) -> News:
        with self._lock:
            news, self._news = self._news, News()
        return news


class SeedWatcher:
    """Imports the seed files that appear or change under `folder` (see the module's notes)."""

    def __init__(
        self,
        folder: Path,
        *,
        max_bytes: int,
        interval: float = DEFAULT_INTERVAL,
        polling: bool = False,
        batch_size: int = BATCH_SIZE,
        retry_first: float = RETRY_FIRST,
        retry_max: float = RETRY_MAX,
    ):
        self.folder = Path(os.path.abspath(folder))
        self.max_bytes, self.batch_size = max_bytes, batch_size
        self.interval, self.polling = interval, polling
        self.retry_first, self.retry_max = retry_first, retry_max
        self.notices = _Notices()
        self.waiting: dict[Path, Look] = {}  # looked at once: taken if the next look finds the same
        self.renamed: set[Path] = set()  # renamed into place: taken at the next look
        self.done: dict[Path, Look] = {}  # as each file was when last imported (or refused for itself)
        self.retry_at: dict[Path, tuple[float, float]] = {}  # path -> (when, the wait before that)

    def run(self, stop: threading.Event) -> None:
        """Watch until `stop` is set; an import under way stops after its current batch."""
        folder_id = self._folder_id()
        observer = self._start_observer()
        logger.info("watching %s for seed files, every %s s (%s)", self.folder, self.interval, _how(observer))
        try:
            self.waiting.update(self._looks(_files_under(self.folder)))  # the first look at what is there
            while not stop.wait(self.interval):
                # A folder removed (or replaced) takes its watch with it: say so and stop, for a restart.
                if self._folder_id() != folder_id or not observer.is_alive():
                    raise WatchError(f"{self.folder} is gone or was replaced: no longer watching it")
                self.look(stop)
        finally:
            observer.stop()
            observer.join()
        logger.info("stopped watching %s", self.folder)

    def look(self, stop: threading.Event) -> None:
        """Look at every file there is news of, and import those found complete."""
        news = self.notices.take()
        self._forget_gone(news.gone, news.gone_folders)
        self.renamed |= news.renamed
        candidates = set(self.waiting) | news.files | self.renamed
        for folder in news.folders:
            candidates.update(_files_under(folder))
        ready = []
        now = time.monotonic()
        for path, look in self._looks(sorted(candidates)).items():
            if self.done.get(path) == look:
                self._forget(path)  # nothing new: a notice of our own read, a touch, a rename back
            elif self.retry_at.get(path, (0.0, 0.0))[0] > now:
                self.waiting[path] = look
            elif path in self.renamed or self.waiting.get(path) == look:
                ready.append((path, look))
            else:
                self.waiting[path] = look
        for path in candidates - set(dict(ready)) - set(self.waiting):
            self._forget(path)  # gone, or not a seed file
        if ready:
            self._import(ready, stop)

    def _forget_gone(self, files: set[Path], folders: set[Path]) -> None:
        """Forget files deleted or renamed away, and those under such folders, so that what the watcher
        keeps stays the size of the folder; one that comes back is looked at anew."""
        if folders:
            files = files | {path for path in self.done if not folders.isdisjoint(path.parents)}
        for path in files:
            self.done.pop(path, None)
            self.retry_at.pop(path, None)

    def _folder_id(self) -> tuple[int, int] | None:
        try:
            stat = self.folder.stat()
        except OSError:
            return None
        return stat.st_dev, stat.st_ino

    def _looks(self, paths) -> dict[Path, Look]:
        looks = {}
        for path in paths:
            try:
                if not is_seed_file(path):
                    continue
                stat = path.stat()
            except OSError:
                continue
            looks[path] = Look(stat.st_size, stat.st_mtime_ns, stat.st_ino)
        return looks

    def _forget(self, path: Path) -> None:
        self.waiting.pop(path, None)
        self.renamed.discard(path)

    def _import(self, ready: list[tuple[Path, Look]], stop: threading.Event) -> None:
        report = ImportReport()

        def between_batches(_done: int) -> None:
            if stop.is_set():
                raise ImportStopped

        run = None
        try:
            run = record_import(
                [path for path, _look in ready],
                report,
                kind="watcher",
                source=str(self.folder),
                started_by=WATCHER,
                max_bytes=self.max_bytes,
                batch_size=self.batch_size,
                on_progress=between_batches,
            )
        except ImportStopped:
            logger.info("stopped during an import: the files it did not reach are imported at the next start")
        except Exception:
            db.session.rollback()
            logger.exception("an import of %d seed files failed", len(ready))
        finally:
            db.session.close()  # a long-lived process keeps no transaction open between looks
            self._settle(ready, report)
        if run is not None:
            logger.info(
                "import run %d: imported %d, updated %d, unchanged %d, invalid %d, conflicts %d",
                run.id,
                run.imported,
                run.updated,
                run.unchanged,
                run.invalid,
                run.conflicts,
            )

    def _settle(self, ready: list[tuple[Path, Look]], report: ImportReport) -> None:
        """Note what became of each file, log it, and plan another try for those that may import later."""
        outcomes = {outcome.file: outcome for outcome in report.outcomes}
        for path, look in ready:
            self._forget(path)
            outcome = outcomes.get(str(path))
            if outcome is None or outcome.retry:
                self._try_again(path, look, outcome.message if outcome else "not imported")
                continue
            self.done[path] = look
            self.retry_at.pop(path, None)
            if outcome.outcome in (INVALID, CONFLICT):
                logger.warning("%s %s: %s", outcome.outcome, path, outcome.message)
            else:
                logger.info("%s %s", outcome.outcome, path)

    def _try_again(self, path: Path, look: Look, why: str) -> None:
        waited = self.retry_at.get(path)
        wait = min(self.retry_max, waited[1] * 2) if waited else self.retry_first
        self.retry_at[path] = (time.monotonic() + wait, wait)
        self.waiting[path] = look
        logger.warning("not imported %s: %s; trying again in %.0f s", path, why, wait)

    def _start_observer(self):
        kinds = [PollingObserver] if self.polling else [Observer, PollingObserver]
        for kind in kinds:
            observer = kind(timeout=self.interval)
            try:
                observer.schedule(self.notices, str(self.folder), recursive=True)
                observer.start()
            except OSError as error:
                if kind is PollingObserver:
                    raise WatchError(f"cannot watch {self.folder}: {error.strerror or error}") from None
                logger.warning(
                    "the system gives no notices of changes in %s (%s): comparing the folder every %s s",
                    self.folder,
                    error.strerror or error,
                    self.interval,
                )
                continue
            return observer
        raise AssertionError("unreachable")


def _how(observer) -> str:
    return "comparing the folder" if isinstance(observer, PollingObserver) else "on the system's notices"


def _files_under(folder: Path) -> list[Path]:
    """The seed files in `folder` and its subfolders, as `seeds import FOLDER` finds them."""
    try:
        return [path for path in sorted(folder.rglob("*")) if is_seed_file(path)]
    except OSError:
        return []
