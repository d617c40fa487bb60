"""bench/profile_path.py: the load benchmarks' requests, sent in process under pyinstrument."""

import pytest

from bench import queue_db

pytest.importorskip("pyinstrument", reason="pyinstrument is the bench extra: pip install -e '.[dev,bench]'")


@pytest.fixture(scope="module")
def queue_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("profile") / "queue.db"
    queue_db.prepare(path, 120, 30, 1, "secret", log=lambda _message: None)
    return path


@pytest.mark.parametrize(
    ("path", "frame"),
    [("fragment", "queue_page"), ("deep", "queue_page"), ("approve-next", "_open_next")],
)
def test_each_path_is_profiled_down_to_the_app_code(queue_file, path, frame, capsys):
    from bench.profile_path import main

    pending = len(queue_db.pending_versions(queue_file))
    assert main(["--db", str(queue_file), "--path", path, "--requests", "20", "--deep-page", "2"]) == 0
    tree = capsys.readouterr().out
    assert frame in tree and "webapp/" in tree
    approved = pending - len(queue_db.pending_versions(queue_file))
    assert approved == (20 if path == "approve-next" else 0)


def test_the_html_report_is_written(queue_file, tmp_path):
    from bench.profile_path import main

    out = tmp_path / "profile.html"
    assert main(["--db", str(queue_file), "--path", "fragment", "--requests", "3", "--html", str(out)]) == 0
    assert "<html" in out.read_text().lower()
