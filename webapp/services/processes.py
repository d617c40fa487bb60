"""Which process wrote a record, and whether it still runs: for runs left "running" by a process that died.

A run (an export, an import) records its host, pid and the process's start time; a pid used again by
a later process is not taken for the one that wrote the run, and a run from another host is not judged.
"""

from __future__ import annotations

import os
import socket
from pathlib import Path
from typing import Protocol


class Recorded(Protocol):
    host: str | None
    pid: int | None
    process_start: str | None


def this_process() -> tuple[str, int, str | None]:
    """(host, pid, start) of the running process."""
    return socket.gethostname(), os.getpid(), process_start(os.getpid())


def process_start(pid: int) -> str | None:
    """Which process `pid` is: the boot and its start time in clock ticks (Linux), so a pid
    used again by a later process is not taken for the one that wrote the run."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
        boot = Path("/proc/sys/kernel/random/boot_id").read_text().strip()
    except OSError:
        return None
    return f"{boot}:{stat.rsplit(')', 1)[1].split()[19]}"  # field 22, starttime


def process_alive(run: Recorded) -> bool | None:
    """Whether the process that wrote `run` still runs; None when it is on another host."""
    if run.host is None or run.pid is None:
        return False  # recorded before runs kept their process: none of those can still run
    if run.host != socket.gethostname():
        return None
    try:
        os.kill(run.pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass  # it exists, as another user
    return run.process_start is None or process_start(run.pid) in (None, run.process_start)
