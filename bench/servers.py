"""Gunicorn for load benchmarks: started on a free 127.0.0.1 port, waited for, stopped.

`serve(app_spec, env, scratch)` is a context manager yielding the base URL (`serve_many` starts
several instances at once and yields theirs). The command line is always `-w 2 --worker-class sync
-b 127.0.0.1:PORT` (`workers=` for another count) plus a generated config file that turns access
logging off and sends the error log to a file in `scratch`, so a `gunicorn.conf.py` or
`GUNICORN_CMD_ARGS` around the caller cannot change the settings.
"""

from __future__ import annotations

import contextlib
import http.client
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
WORKERS = 2
GUNICORN_ARGS = ("-w", str(WORKERS), "--worker-class", "sync")
READY_TIMEOUT = 60.0
STOP_TIMEOUT = 15.0


class ServerError(RuntimeError):
    """Gunicorn did not start, or died."""


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def gunicorn_args(workers: int = WORKERS) -> tuple[str, ...]:
    return ("-w", str(workers), *GUNICORN_ARGS[2:])


@contextlib.contextmanager
def serve(
    app_spec: str, env: dict[str, str], scratch: Path, ready_path: str = "/", workers: int = WORKERS
) -> Iterator[str]:
    """Run gunicorn on `app_spec` with `workers` sync workers until the block ends; yields
    http://127.0.0.1:PORT."""
    with serve_many(app_spec, env, scratch, 1, ready_path, workers) as (url,):
        yield url


@contextlib.contextmanager
def serve_many(
    app_spec: str,
    env: dict[str, str],
    scratch: Path,
    count: int,
    ready_path: str = "/",
    workers: int = WORKERS,
) -> Iterator[list[str]]:
    """Run `count` gunicorn instances of `app_spec`, each on a port of its own, started and stopped
    together; yields their base URLs."""
    started: list[tuple[subprocess.Popen, int, Path]] = []
    try:
        for _ in range(count):
            started.append(_start(app_spec, env, scratch, workers, {port for _, port, _ in started}))
        for process, port, error_log in started:
            _wait_ready(process, port, ready_path, error_log)
        yield [f"http://127.0.0.1:{port}" for _, port, _ in started]
    finally:
        _stop([process for process, _, _ in started])


def _start(
    app_spec: str, env: dict[str, str], scratch: Path, workers: int, taken: set[int]
) -> tuple[subprocess.Popen, int, Path]:
    port = free_port()
    while port in taken:
        port = free_port()
    name = app_spec.split(":")[0].replace(".", "_")
    error_log = scratch / f"gunicorn-{name}-{port}.log"
    config = scratch / f"gunicorn-{name}-{port}.conf.py"
    config.write_text(f"accesslog = None\nerrorlog = {str(error_log)!r}\nloglevel = 'warning'\n")
    command = [
        sys.executable,
        "-m",
        "gunicorn",
        "-c",
        str(config),
        *gunicorn_args(workers),
        "-b",
        f"127.0.0.1:{port}",
        app_spec,
    ]
    environment = {k: v for k, v in os.environ.items() if k != "GUNICORN_CMD_ARGS"} | env
    process = subprocess.Popen(
        command, cwd=PROJECT_ROOT, env=environment, stdin=subprocess.DEVNULL, start_new_session=True
    )
    return process, port, error_log


def _wait_ready(process: subprocess.Popen, port: int, path: str, error_log: Path) -> None:
    deadline = time.monotonic() + READY_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise ServerError(f"gunicorn exited with status {process.returncode}:\n{_tail(error_log)}")
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
        try:
            connection.request("GET", path)
            connection.getresponse().read()
            return
        except OSError:
            time.sleep(0.2)
        finally:
            # Closed on a timeout too: on a loaded machine the first answer can take longer than 5 s.
            connection.close()
    raise ServerError(
        f"gunicorn did not answer on 127.0.0.1:{port} within {READY_TIMEOUT:.0f}s:\n{_tail(error_log)}"
    )


def _stop(processes: list[subprocess.Popen]) -> None:
    running = [process for process in processes if process.poll() is None]
    for process in running:
        process.send_signal(signal.SIGTERM)  # the master stops its workers gracefully
    for process in running:
        try:
            process.wait(STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)  # its own session: the master and its workers only
            process.wait()


def _tail(path: Path, lines: int = 20) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no error log)"
