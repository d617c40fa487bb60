"""Gunicorn for load benchmarks: started on a free 127.0.0.1 port, waited for, stopped.

`serve(app_spec, env, scratch)` is a context manager yielding the base URL. The command
line is always `-w 2 --worker-class sync -b 127.0.0.1:PORT` plus a generated config file
that turns access logging off and sends the error log to a file in `scratch`, so a
`gunicorn.conf.py` or `GUNICORN_CMD_ARGS` around the caller cannot change the settings.
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
GUNICORN_ARGS = ("-w", "2", "--worker-class", "sync")
READY_TIMEOUT = 60.0
STOP_TIMEOUT = 15.0


class ServerError(RuntimeError):
    """Gunicorn did not start, or died."""


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextlib.contextmanager
def serve(app_spec: str, env: dict[str, str], scratch: Path, ready_path: str = "/") -> Iterator[str]:
    """Run gunicorn on `app_spec` until the block ends; yields http://127.0.0.1:PORT."""
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
        *GUNICORN_ARGS,
        "-b",
        f"127.0.0.1:{port}",
        app_spec,
    ]
    environment = {k: v for k, v in os.environ.items() if k != "GUNICORN_CMD_ARGS"} | env
    process = subprocess.Popen(
        command, cwd=PROJECT_ROOT, env=environment, stdin=subprocess.DEVNULL, start_new_session=True
    )
    try:
        _wait_ready(process, port, ready_path, error_log)
        yield f"http://127.0.0.1:{port}"
    finally:
        _stop(process)


def _wait_ready(process: subprocess.Popen, port: int, path: str, error_log: Path) -> None:
    deadline = time.monotonic() + READY_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise ServerError(f"gunicorn exited with status {process.returncode}:\n{_tail(error_log)}")
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            connection.request("GET", path)
            connection.getresponse().read()
            connection.close()
            return
        except OSError:
            time.sleep(0.2)
    raise ServerError(
        f"gunicorn did not answer on 127.0.0.1:{port} within {READY_TIMEOUT:.0f}s:\n{_tail(error_log)}"
    )


def _stop(process: subprocess.Popen) -> None:
    if process.poll() is not None:
        return
    process.send_signal(signal.SIGTERM)  # the master stops its workers gracefully
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
