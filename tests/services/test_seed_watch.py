"""The watcher: files dropped into a folder, quickly, slowly, renamed into place or refused, are each imported
exactly once, as `seeds import` would, and every import is a run."""

import errno
import logging
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from sqlalchemy import func, select

from tests.factories import REAL_SEED, ROOT, real_seed_titled
from webapp.models import Article, ImportRefusal, ImportRun, db
from webapp.services import seed_import, seed_watch
from webapp.services.seed_watch import SeedWatcher, WatchError

INTERVAL = 0.5
DEADLINE = 30  # seconds for everything dropped to be taken, on a busy machine


class Watched(SeedWatcher):
    """A watcher that tells the test which files it has settled, and what became of them."""

    def __init__(self, folder, **options):
        super().__init__(folder, max_bytes=2**21, interval=INTERVAL, **options)
        self.settled: dict[Path, list[str]] = {}
        self.sizes_seen: dict[Path, set[int]] = {}
        self.changed = threading.Condition()
        self.watching = threading.Event()  # set at the first look, once the folder is watched

    def _looks(self, paths):
        self.watching.set()
        looks = super()._looks(paths)
        for path, look in looks.items():
            self.sizes_seen.setdefault(path, set()).add(look.size)
        return looks

    def _settle(self, ready, report):
        super()._settle(ready, report)
        with self.changed:
            for outcome in report.outcomes:
                self.settled.setdefault(Path(outcome.file), []).append(outcome.outcome)
            self.changed.notify_all()

    def wait_for(self, paths, deadline=DEADLINE) -> None:
        with self.changed:
            if not self.changed.wait_for(lambda: set(paths) <= set(self.settled), timeout=deadline):
                pytest.fail(f"not taken within {deadline} s: {sorted(set(paths) - set(self.settled))}")


def watching(watcher: Watched, drop) -> None:
    """Run `watcher` here until `drop(watcher)`, in a thread of its own, has dropped its files."""
    stop = threading.Event()
    failure = []

    def dropper():
        try:
            drop(watcher)
        except BaseException as error:  # noqa: BLE001 - reported in the test's thread
            failure.append(error)
        finally:
            stop.set()

    thread = threading.Thread(target=dropper)
    thread.start()
    try:
        watcher.run(stop)
    finally:
        stop.set()
        thread.join()
    if failure:
        raise failure[0]


def write_slowly(path: Path, text: str, pieces: int = 12, pause: float = INTERVAL / 5) -> None:
    """Write `text` in pieces, each flushed, with pauses well under the watcher's interval: over
    several intervals in all, so that the watcher looks at it half-written."""
    data = text.encode()
    size = -(-len(data) // pieces)
    with open(path, "wb") as file:
        for start in range(0, len(data), size):
            file.write(data[start : start + size])
            file.flush()
            time.sleep(pause)


def articles_by_identity() -> dict[str, tuple[int, str]]:
    db.session.expire_all()
    return {a.identity: (a.version, a.title) for a in db.session.scalars(select(Article))}


def watcher_runs() -> list[ImportRun]:
    db.session.expire_all()
    return db.session.scalars(select(ImportRun).order_by(ImportRun.id)).all()


def totals(runs) -> dict[str, int]:
    return {
        name: sum(getattr(run, name) for run in runs)
        for name in ("imported", "updated", "unchanged", "conflicts", "invalid")
    }


@pytest.fixture
def watch_log(caplog, monkeypatch):
    """The watcher's log lines (the migrations' logging.config.fileConfig disabled its logger)."""
    monkeypatch.setattr(logging.getLogger("webapp.services.seed_watch"), "disabled", False)
    caplog.set_level(logging.INFO, logger="webapp.services.seed_watch")
    return lambda: [record.getMessage() for record in caplog.records]


@pytest.mark.parametrize("polling", [False, True], ids=["notices", "polling"])
def test_files_dropped_into_the_folder_are_each_imported_exactly_once(app, tmp_path, polling, watch_log):
    folder = tmp_path / "incoming"
    folder.mkdir()
    (folder / "there_before.md").write_text(real_seed_titled("There before the watcher"), encoding="utf-8")
    quick = [folder / f"quick_{n}.md" for n in range(3)]
    slow = folder / "slow.md"
    renamed = folder / "renamed.txt"
    nested = folder / "later" / "deeper" / "nested.md"
    bad = folder / "bad.md"

    def drop(watcher):
        for n, path in enumerate(quick):
            path.write_text(real_seed_titled(f"Quick story {n}"), encoding="utf-8")
        write_slowly(slow, real_seed_titled("Written slowly, in pieces"))
        hidden = folder / ".renamed.txt.part"  # a hidden name: never taken
        hidden.write_text(real_seed_titled("Renamed into place"), encoding="utf-8")
        time.sleep(2 * INTERVAL)
        hidden.rename(renamed)
        nested.parent.mkdir(parents=True)
        nested.write_text(real_seed_titled("In a folder made after the start"), encoding="utf-8")
        bad.write_text("no front matter\n", encoding="utf-8")
        (folder / "notes.json").write_text("{}")  # not a seed file's name: never taken
        watcher.wait_for([folder / "there_before.md", *quick, slow, renamed, nested, bad])
        time.sleep(4 * INTERVAL)  # time enough to take anything twice

    watcher = Watched(folder, polling=polling)
    watching(watcher, drop)

    taken = [folder / "there_before.md", *quick, slow, renamed, nested]
    assert {path: watcher.settled[path] for path in taken} == {path: ["imported"] for path in taken}
    assert watcher.settled[bad] == ["invalid"]
    assert set(watcher.settled) == {*taken, bad}
    articles = articles_by_identity()
    assert {identity: version for identity, (version, _title) in articles.items()} == {
        path.stem: 1 for path in taken
    }
    assert articles["slow"][1] == "Written slowly, in pieces"
    assert len(watcher.sizes_seen[slow]) > 1, "the watcher never saw the slow file half-written"
    assert articles["renamed"][1] == "Renamed into place"
    runs = watcher_runs()
    assert {(run.kind, run.started_by, run.source, run.status) for run in runs} == {
        ("watcher", "watcher", str(folder), "complete")
    }
    assert totals(runs) == {"imported": 7, "updated": 0, "unchanged": 0, "conflicts": 0, "invalid": 1}
    [refusal] = db.session.scalars(select(ImportRefusal)).all()
    assert (refusal.outcome, refusal.file) == ("invalid", str(bad))
    logged = watch_log()
    assert f"imported {slow}" in logged
    assert f"invalid {bad}: line 1: no front matter: a seed starts with a line '---'" in logged
    assert f"stopped watching {folder}" in logged


def test_a_restart_finds_the_files_unchanged_and_a_changed_file_updates_its_article(app, tmp_path):
    (tmp_path / "story.md").write_text(real_seed_titled("First words"), encoding="utf-8")
    (tmp_path / "other.md").write_text(real_seed_titled("Other"), encoding="utf-8")
    first = Watched(tmp_path)
    watching(first, lambda watcher: watcher.wait_for([tmp_path / "story.md", tmp_path / "other.md"]))

    def change(watcher):
        watcher.wait_for([tmp_path / "story.md", tmp_path / "other.md"])
        (tmp_path / "story.md").write_text(real_seed_titled("Second words"), encoding="utf-8")
        deadline = time.monotonic() + DEADLINE
        while watcher.settled[tmp_path / "story.md"] == ["unchanged"] and time.monotonic() < deadline:
            time.sleep(INTERVAL / 2)
        time.sleep(4 * INTERVAL)

    second = Watched(tmp_path)
    watching(second, change)
    assert second.settled[tmp_path / "story.md"] == ["unchanged", "updated"]
    assert second.settled[tmp_path / "other.md"] == ["unchanged"]
    assert articles_by_identity() == {"story": (2, "Second words"), "other": (1, "Other")}
    assert totals(watcher_runs()) == {
        "imported": 2,
        "updated": 1,
        "unchanged": 2,
        "conflicts": 0,
        "invalid": 0,
    }


def test_a_file_refused_for_a_fault_not_its_own_is_tried_again(app, tmp_path, monkeypatch, watch_log):
    failures = iter([RuntimeError("the database blinked")])
    real_row = seed_import.article_row

    def flaky_row(seed_file, now):
        failure = next(failures, None)
        if failure:
            raise failure
        return real_row(seed_file, now)

    monkeypatch.setattr(seed_import, "article_row", flaky_row)
    path = tmp_path / REAL_SEED.name
    path.write_bytes(REAL_SEED.read_bytes())

    def drop(watcher):
        deadline = time.monotonic() + DEADLINE
        while watcher.settled.get(path, [None])[-1] != "imported" and time.monotonic() < deadline:
            time.sleep(INTERVAL / 2)

    watcher = Watched(tmp_path, retry_first=INTERVAL)
    watching(watcher, drop)
    assert watcher.settled[path] == ["invalid", "imported"]
    runs = watcher_runs()
    assert [(run.imported, run.invalid) for run in runs] == [(0, 1), (1, 0)]
    logged = watch_log()
    assert any(
        message.startswith(
            f"not imported {path}: internal error while storing: RuntimeError: the database blinked"
        )
        for message in logged
    ), logged


def test_a_stop_during_an_import_ends_it_after_the_current_batch(app, tmp_path):
    paths = [tmp_path / f"story_{n}.md" for n in range(3)]
    for n, path in enumerate(paths):
        path.write_text(real_seed_titled(f"Story {n}"), encoding="utf-8")
    watcher = Watched(tmp_path, batch_size=1)
    looks = watcher._looks(paths)
    stop = threading.Event()
    stop.set()
    watcher._import(list(looks.items()), stop)
    [run] = watcher_runs()
    assert (run.status, run.imported) == ("interrupted", 1)
    assert watcher.settled == {paths[0]: ["imported"]}
    # The others wait for another try (at the next start, since this watcher stops).
    assert set(watcher.retry_at) == set(paths[1:])
    assert db.session.scalar(select(func.count()).select_from(Article)) == 1


@pytest.mark.parametrize("stop_signal", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "Ctrl-C"])
def test_the_command_imports_what_is_dropped_and_stops_cleanly_on_a_signal(
    app, migrated, tmp_path, stop_signal
):
    folder = tmp_path / "incoming"
    folder.mkdir()
    log_path = tmp_path / "watch.log"
    environment = {
        **os.environ,
        "DATABASE_URL": migrated,
        "SECRET_KEY": "watch-test",
        "COPYDESK_ENV": "development",
    }
    environment.pop("LOG_FORMAT", None)
    with open(log_path, "w") as log:
        # A file, not a pipe: nobody reads the watcher's output while it runs, and a full pipe would block it.
        watcher = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "flask",
                "--app",
                "webapp",
                "seeds",
                "watch",
                str(folder),
                "--interval",
                "0.3",
            ],
            cwd=ROOT,
            env=environment,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        wait_until(lambda: "watching" in log_path.read_text(), "the watcher to start", log_path)
        quick = folder / "quick.md"
        quick.write_text(real_seed_titled("Dropped while the command watched"), encoding="utf-8")
        slow = folder / "slow.txt"
        write_slowly(slow, real_seed_titled("Written slowly under the command"), pause=0.06)
        bad = folder / "bad.md"
        bad.write_text("no front matter\n", encoding="utf-8")
        wait_until(
            lambda: totals(watcher_runs())["imported"] + totals(watcher_runs())["invalid"] == 3,
            "3 files",
            log_path,
        )
        time.sleep(1.5)  # time enough to take anything twice
        watcher.send_signal(stop_signal)
        assert watcher.wait(timeout=20) == 0, log_path.read_text()
    finally:
        if watcher.poll() is None:
            watcher.kill()
            watcher.wait()
    logged = log_path.read_text()
    name = signal.Signals(stop_signal).name
    for line in (
        f"imported {quick}",
        f"imported {slow}",
        f"invalid {bad}: line 1: no front matter",
        f"{name}: stopping",
    ):
        assert logged.count(line) == 1, logged
    assert logged.rstrip().endswith(f"stopped watching {folder}"), logged
    assert {identity: version for identity, (version, _title) in articles_by_identity().items()} == {
        "quick": 1,
        "slow": 1,
    }
    assert articles_by_identity()["slow"][1] == "Written slowly under the command"
    runs = watcher_runs()
    assert {run.status for run in runs} == {"complete"}
    assert totals(runs) == {"imported": 2, "updated": 0, "unchanged": 0, "conflicts": 0, "invalid": 1}


def wait_until(condition, what: str, log_path: Path) -> None:
    deadline = time.monotonic() + DEADLINE
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"waited {DEADLINE} s for {what}:\n{log_path.read_text()}")
        time.sleep(0.1)


def test_a_folder_that_goes_away_ends_the_watch_with_an_error(app, tmp_path):
    folder = tmp_path / "incoming"
    folder.mkdir()

    def remove(watcher):
        assert watcher.watching.wait(DEADLINE)
        folder.rmdir()
        time.sleep(4 * INTERVAL)

    with pytest.raises(WatchError, match="is gone or was replaced: no longer watching it"):
        watching(Watched(folder), remove)


@pytest.mark.parametrize("polling", [False, True], ids=["notices", "polling"])
def test_files_deleted_or_moved_away_are_forgotten(app, tmp_path, polling):
    folder = tmp_path / "incoming"
    (folder / "sub").mkdir(parents=True)
    single, nested = folder / "single.md", folder / "sub" / "nested.md"
    single.write_text(real_seed_titled("Deleted after its import"), encoding="utf-8")
    nested.write_text(real_seed_titled("Moved away with its folder"), encoding="utf-8")

    def remove(watcher):
        watcher.wait_for([single, nested])
        assert set(watcher.done) == {single, nested}
        single.unlink()
        (folder / "sub").rename(tmp_path / "elsewhere")
        deadline = time.monotonic() + DEADLINE
        while watcher.done and time.monotonic() < deadline:
            time.sleep(INTERVAL / 2)

    watcher = Watched(folder, polling=polling)
    watching(watcher, remove)
    assert watcher.done == {}
    assert set(articles_by_identity()) == {"single", "nested"}  # the articles stay


def test_when_the_kernel_refuses_more_watches_the_watcher_polls(app, tmp_path, monkeypatch, watch_log):
    class Refused(seed_watch.Observer):
        def start(self):
            raise OSError(errno.ENOSPC, "inotify watch limit reached")

    monkeypatch.setattr(seed_watch, "Observer", Refused)
    dropped = tmp_path / "dropped.md"

    def drop(watcher):
        dropped.write_text(real_seed_titled("Found by comparing the folder"), encoding="utf-8")
        watcher.wait_for([dropped])

    watching(Watched(tmp_path), drop)
    assert set(articles_by_identity()) == {"dropped"}
    logged = watch_log()
    assert (
        f"the system gives no notices of changes in {tmp_path} (inotify watch limit reached): "
        f"comparing the folder every {INTERVAL} s"
    ) in logged
    assert f"watching {tmp_path} for seed files, every {INTERVAL} s (comparing the folder)" in logged
