"""Run one benchmark as `make bench` runs each: `python -m bench.run MODULE [ARGS...]`.

A benchmark's exit status says how it went: 0 every target met, 1 a target missed, 2 it could not
run, and `make bench` goes on past a 1. Python exits 1 on an uncaught exception too, which would
pass for a missed target: here a crash, or an exit with a message, is a 2.
"""

from __future__ import annotations

# Only the standard library here: bench/export.py's children measure their peak RSS from a small parent.
import importlib
import sys
import traceback


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if not argv:
        print(__doc__, file=sys.stderr)
        return 2
    name = argv[0]
    module = importlib.import_module(f"bench.{name}")
    try:
        status = module.main(argv[1:])
    except SystemExit as leaving:
        if leaving.code is None or isinstance(leaving.code, int):
            return leaving.code or 0
        print(leaving.code, file=sys.stderr)
        return 2
    except Exception:
        traceback.print_exc()
        print(f"bench.{name} crashed: it could not run (exit 2)", file=sys.stderr)
        return 2
    return status or 0


if __name__ == "__main__":
    sys.exit(main())
