"""SQLite's write-ahead log, copied back into the database beside the requests, never inside one.

SQLite checkpoints in whichever commit takes the log past 1,000 pages, and a checkpoint ends with
an fsync of the database file: measured in-process on the 100,000-article bench database, one
approve in fifty took 20 to 140 ms instead of 8. So a process that serves requests turns that off
on its connections (`wal_autocheckpoint=0`) and checkpoints from a thread of its own every
`SQLITE_CHECKPOINT_SECONDS` instead. A PASSIVE checkpoint waits for no one: readers and writers go
on meanwhile, and when two processes try at once one of them finds the log busy and tries again
next time. A process that never serves a request (the CLI, an import) keeps SQLite's own.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
from typing import NamedTuple

log = logging.getLogger(__name__)


class Checkpoint(NamedTuple):
    """What `PRAGMA wal_checkpoint(PASSIVE)` reports."""

    busy: bool  # another process was checkpointing: nothing was done this time
    log_frames: int  # pages in the log
    copied_frames: int  # of those, now in the database file


class WalCheckpointer:
    """A daemon thread checkpointing one SQLite file every `seconds`, started by the first request."""

    def __init__(self, database: str, seconds: float):
        self.database = database
        self.seconds = seconds
        self.last: Checkpoint | None = None
        self.failures = 0
        self._thread: threading.Thread | None = None
        self._starting = threading.Lock()
        self._stop = threading.Event()

    @property
    def running(self) -> bool:
        # A forked worker inherits the object, not the thread: there it reads False and starts its own.
        return self._thread is not None and self._thread.is_alive()

    def start(self) -> None:
        if self.running:
            return
        with self._starting:
            if not self.running:
                self._stop.clear()
                self._thread = threading.Thread(target=self._run, name="wal-checkpoints", daemon=True)
                self._thread.start()

    def stop(self, timeout: float = 5) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)

    def checkpoint(self, connection: sqlite3.Connection) -> Checkpoint:
        busy, log_frames, copied_frames = connection.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
        self.last = Checkpoint(bool(busy), log_frames, copied_frames)
        return self.last

    def _run(self) -> None:
        connection = None
        while not self._stop.wait(self.seconds):
            try:
                if connection is None:
                    connection = sqlite3.connect(self.database, timeout=1, check_same_thread=False)
                self.checkpoint(connection)
            except sqlite3.Error as error:
                self.failures += 1
                log.warning("SQLite checkpoint of %s failed (%s); trying again", self.database, error)
                if connection is not None:
                    connection.close()
                    connection = None
        if connection is not None:
            connection.close()
