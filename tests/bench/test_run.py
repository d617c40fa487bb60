"""bench.run keeps a benchmark's own exit status (0 met, 1 a target missed, 2 could not run) and turns a
crash, which Python would exit with 1, into 2: `make bench` and CI go on past a 1 only."""

import sys
import types

import pytest

from bench import run


@pytest.fixture
def benchmark(monkeypatch):
    """bench.fake, whose main does what the test gives it; the arguments it was called with."""
    called = []

    def install(behaviour):
        def main(argv=None):
            called.append(argv)
            return behaviour()

        monkeypatch.setitem(sys.modules, "bench.fake", types.SimpleNamespace(main=main))
        return called

    return install


@pytest.mark.parametrize("status, expected", [(0, 0), (None, 0), (1, 1), (2, 2)])
def test_a_benchmarks_own_status_is_kept(benchmark, status, expected):
    called = benchmark(lambda: status)
    assert run.main(["fake", "--n", "10"]) == expected
    assert called == [["--n", "10"]]


def test_a_crash_is_could_not_run(benchmark, capsys):
    def crash():
        raise ValueError("Search: 2* is too short a prefix")

    benchmark(crash)
    assert run.main(["fake"]) == 2
    error = capsys.readouterr().err
    assert "ValueError: Search: 2* is too short a prefix" in error and "bench.fake crashed" in error


@pytest.mark.parametrize("code, expected", [(1, 1), (0, 0), ("no database at /tmp/x.db", 2)])
def test_an_exit_with_a_message_is_could_not_run(benchmark, code, expected, capsys):
    def leave():
        raise SystemExit(code)

    benchmark(leave)
    assert run.main(["fake"]) == expected
    if isinstance(code, str):
        assert code in capsys.readouterr().err


def test_the_small_search_benchmark_runs_through_it(tmp_path):
    # The words it picks from a small corpus make a valid prefix search (it picked "2*" and crashed).
    assert run.main(
        ["search", "--n", "500", "--unique", "500", "--runs", "1", "--sqlite", str(tmp_path / "s.db")]
    ) in (0, 1)
