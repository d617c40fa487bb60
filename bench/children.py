"""Benchmark steps in child Pythons: each step's figures, and its own peak RSS.

A step runs as `python -c "from bench.<module> import child; child(task, ...)"` and prints
its figures as one JSON line last. Only the standard library is imported here, so a parent
stays small: on Linux a child's peak RSS starts from the high-water mark of its parent.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent


class BenchmarkError(RuntimeError):
    """The benchmark cannot run; the message says why."""


def run_child(module: str, task: str, *arguments) -> tuple[dict, float]:
    """Run `task` of bench.<module> in a child Python: its figures, and its peak RSS in MiB."""
    entry = f"import sys; from bench.{module} import child; child(*sys.argv[1:])"
    command = [sys.executable, "-c", entry, task, *map(str, arguments)]
    with subprocess.Popen(command, stdout=subprocess.PIPE, cwd=PROJECT_ROOT) as process:
        output = process.stdout.read()
        # wait4 gives this child's own usage; RUSAGE_CHILDREN would give the largest child's so far.
        _, status, usage = os.wait4(process.pid, 0)
        process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode != 0:
        raise BenchmarkError(f"the {task} step failed with exit status {process.returncode} (see above)")
    return json.loads(output.decode().splitlines()[-1]), usage.ru_maxrss / 1024
