"""gunicorn's settings for Copydesk (`make serve`); GUNICORN_CMD_ARGS or the command line change any of them.

It never migrates: `copydesk db upgrade` is a step of its own, before the workers start.
"""

import gc
import json
import os
import re
import shutil
import tempfile
from datetime import UTC, datetime
from pathlib import Path

from gunicorn.glogging import Logger


def _whole_number(name: str, default: int, minimum: int = 1) -> int:
    # Not webapp.config's helpers: importing webapp here would load the app's code into the master, and
    # the workers a HUP restarts would then run that old code instead of importing the new.
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        value = None
    if value is None or value < minimum:
        raise SystemExit(f"{name} must be a whole number, at least {minimum}, got {raw!r}")
    return value


def _cpus() -> int:
    # The CPUs this process may use (a container's cpuset), not all the machine has.
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count() or 1


bind = [
    address.strip()
    for address in (os.environ.get("BIND") or f"127.0.0.1:{_whole_number('PORT', 8000)}").split(",")
    if address.strip()
]
# Sync workers, one request each at a time: gunicorn's advice of two per CPU and one more.
workers = _whole_number("WEB_CONCURRENCY", 2 * _cpus() + 1)
# Each worker builds its own app and database pool after the fork; none is shared with the master.
preload_app = False

# A worker silent this long is killed and replaced; a statement is cancelled sooner (DB_STATEMENT_TIMEOUT_MS).
timeout = 30
# On HUP or TERM, a worker finishes the requests it holds for up to this long.
graceful_timeout = 30
# Each worker is replaced, gracefully, after about a thousand requests (never all at once): memory a
# long-lived process gathers is given back.
max_requests = 1000
max_requests_jitter = 100
# Signals (HUP, TERM, TTIN) manage it; a control socket under $HOME would be shared by every instance.
control_socket_disable = True
# The heartbeat file in memory: a slow or full disk does not make a worker look silent.
if os.path.isdir("/dev/shm"):
    worker_tmp_dir = "/dev/shm"

# gunicorn believes X-Forwarded-Proto only from these peers; the app's ProxyFix counts the same proxies.
# With TRUSTED_PROXIES the app is reachable only through them, so any peer is one of them.
forwarded_allow_ips = "*" if _whole_number("TRUSTED_PROXIES", 0, minimum=0) else ""


# Prometheus: every worker writes its metrics into one folder, which a scrape answered by any worker
# sums (prometheus_client's multiprocess mode). These are the files it writes there (counter_123.db,
# gauge_livesum_123.db, ...): an earlier run's are removed at start, and nothing else there is touched.
METRIC_FILE = re.compile(r"(counter|histogram|summary|gauge_[a-z]+)_\d+\.db")
_made_folders = []


def on_starting(server):
    """In the master, before any worker: PROMETHEUS_MULTIPROC_DIR made if missing, and emptied.

    Unset, it is a new temporary folder for this run (removed at exit), so that several workers count
    right with no setting; the workers are forked with it in their environment."""
    folder = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if not folder:
        folder = tempfile.mkdtemp(prefix="copydesk-metrics-")
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = folder
        _made_folders.append(folder)
    Path(folder).mkdir(parents=True, exist_ok=True)
    for entry in Path(folder).iterdir():
        if METRIC_FILE.fullmatch(entry.name):
            entry.unlink(missing_ok=True)


def post_worker_init(worker):
    """In each worker, once it has loaded the app: everything made so far (the app, every module it
    imported) leaves the garbage collector's generations for good.

    A full collection then no longer walks those objects in the middle of a request: measured on
    /stats over 1,000,000 events on PostgreSQL, in process, the slowest of 40 requests went from
    119 ms to 40 ms and the p95 from 48 to 39 ms (bench/stats.py freezes likewise)."""
    gc.freeze()


def child_exit(server, worker):
    """A worker has gone: its live gauges stop counting (its counters stay: what it counted happened)."""
    # Imported only now, with PROMETHEUS_MULTIPROC_DIR set: prometheus_client reads it on import, and
    # workers forked later inherit the module as the master imported it.
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)


def on_exit(server):
    for folder in _made_folders:
        shutil.rmtree(folder, ignore_errors=True)


class JsonAtoms(dict):
    """gunicorn's log atoms, each written as a JSON value (a missing one as null)."""

    def __getitem__(self, key):
        # Header atoms are stored lower case, as `{name}i` and `{name}o`.
        return json.dumps(self.get(key.lower() if key.startswith("{") else key), default=str)


class JsonAccessLogger(Logger):
    """An access log of one JSON object a line, whatever quotes or bytes a request carries."""

    atoms_wrapper_class = JsonAtoms

    def atoms(self, resp, req, environ, request_time):
        atoms = super().atoms(resp, req, environ, request_time)
        atoms["s"] = int(atoms["s"]) if str(atoms["s"]).isdigit() else atoms["s"]
        atoms["duration_ms"] = round(request_time.total_seconds() * 1000, 3)
        return atoms

    def now(self):
        return datetime.now(UTC).isoformat(timespec="milliseconds")


logger_class = JsonAccessLogger
accesslog = "-"
access_log_format = (
    '{"time": %(t)s, "remote_addr": %(h)s, "method": %(m)s, "path": %(U)s, "query": %(q)s,'
    ' "status": %(s)s, "bytes": %(B)s, "duration_ms": %(duration_ms)s, "referer": %({referer}i)s,'
    ' "user_agent": %({user-agent}i)s, "request_id": %({x-request-id}o)s}'
)
