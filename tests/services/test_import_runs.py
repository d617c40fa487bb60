"""Import runs: each `seeds import` recorded with its counts and the files it did not take, all or nothing."""

import json
import os
import shutil
import socket

import pytest
from sqlalchemy import delete, event, func, select

from tests.factories import MINIMAL, REAL_SEED, SEEDS, real_seed_titled, seed_text
from webapp.models import APPROVED, Article, ImportRefusal, ImportRun, db
from webapp.services import import_runs, moderation
from webapp.services.import_runs import ImportStopped, record_import
from webapp.services.processes import this_process
from webapp.services.seed_import import ImportReport, find_seed_files


def refusals(run_id: int) -> list[tuple[str, str, str]]:
    return [
        (r.outcome, r.file, r.message)
        for r in db.session.scalars(
            select(ImportRefusal).where(ImportRefusal.run_id == run_id).order_by(ImportRefusal.position)
        )
    ]


def record(folder, **options) -> ImportRun:
    """Import every seed file in `folder` as the command line does, recorded as a run."""
    report = ImportReport()
    options = {
        "kind": "command",
        "source": str(folder),
        "started_by": "command line",
        "max_bytes": 2**21,
    } | options
    return record_import(find_seed_files([str(folder)], report), report, **options)


def only_run() -> ImportRun:
    db.session.expire_all()
    [run] = db.session.scalars(select(ImportRun)).all()
    return run


def test_the_command_records_a_run_with_its_counts_and_each_file_it_did_not_take(
    app, runner, make_user, tmp_path
):
    shutil.copy(REAL_SEED, tmp_path / "moderated.txt")
    assert runner.invoke(args=["seeds", "import", str(tmp_path)]).exit_code == 0
    article = db.session.scalar(select(Article))
    moderation.decide(article.id, make_user("ana"), APPROVED, article.version)
    db.session.execute(delete(ImportRun))
    db.session.commit()
    (tmp_path / "moderated.txt").write_text(real_seed_titled("Changed after the decision"), encoding="utf-8")
    (tmp_path / "new.md").write_text(seed_text(MINIMAL), encoding="utf-8")
    (tmp_path / "broken.md").write_text("no front matter\n", encoding="utf-8")

    result = runner.invoke(args=["seeds", "import", "--json", str(tmp_path), str(tmp_path / "missing-*.md")])

    assert result.exit_code == 1
    run = only_run()
    assert json.loads(result.stdout)["run"] == run.id
    assert (run.kind, run.started_by, run.status, run.error) == ("command", "command line", "complete", None)
    assert run.source == f"{tmp_path} '{tmp_path / 'missing-*.md'}'"  # as a shell would quote it
    assert (run.imported, run.updated, run.unchanged, run.conflicts, run.invalid) == (1, 0, 0, 1, 2)
    assert run.started_at <= run.finished_at
    assert (run.host, run.pid) == (socket.gethostname(), os.getpid())
    assert refusals(run.id) == [
        (
            "invalid",
            str(tmp_path / "missing-*.md"),
            "no such file or folder (nor any file matching it as a pattern)",
        ),
        ("invalid", str(tmp_path / "broken.md"), "line 1: no front matter: a seed starts with a line '---'"),
        (
            "conflict",
            str(tmp_path / "moderated.txt"),
            "changed, but the article was already moderated (approved); kept the moderation",
        ),
    ]


def test_the_summary_names_the_run(runner):
    result = runner.invoke(args=["seeds", "import", str(SEEDS)])
    assert result.exit_code == 0, result.output
    assert (
        f"imported 1, updated 0, unchanged 0, invalid 0, conflicts 0 (import run {only_run().id})"
        in result.output
    )


def test_every_import_is_a_run_of_its_own_and_an_unchanged_one_too(runner):
    for _ in range(2):
        assert runner.invoke(args=["seeds", "import", str(SEEDS)]).exit_code == 0
    runs = db.session.scalars(select(ImportRun).order_by(ImportRun.id)).all()
    assert [(r.imported, r.unchanged, r.status) for r in runs] == [(1, 0, "complete"), (0, 1, "complete")]


def test_a_file_name_that_is_not_utf8_is_kept_as_text(app, tmp_path):
    name = os.fsdecode(b"bad-\xff\xfe-name.md")
    (tmp_path / name).write_text("no front matter\n", encoding="utf-8")
    run = record(tmp_path, source=str(tmp_path / name))
    assert refusals(run.id) == [
        (
            "invalid",
            f"{tmp_path}/bad-\\xff\\xfe-name.md",
            "file name: not UTF-8 (the name is the article's identity); rename it",
        )
    ]
    assert run.source == f"{tmp_path}/bad-\\xff\\xfe-name.md"


def test_storable_spells_out_what_a_database_cannot_keep():
    assert import_runs.storable("a\x00b") == "a\\x00b"
    assert import_runs.storable(os.fsdecode(b"\xff")) == "\\xff"
    assert import_runs.storable("\ud800 lone") == "\\ud800 lone"
    assert import_runs.storable("plain “quotes” ✓") == "plain “quotes” ✓"


@pytest.mark.parametrize("stop", [KeyboardInterrupt, ImportStopped])
def test_an_import_stopped_between_batches_is_interrupted_with_the_batches_it_finished(app, tmp_path, stop):
    for name in "abc":
        (tmp_path / f"{name}.md").write_text(real_seed_titled(f"Story {name}"), encoding="utf-8")

    def stop_after_the_first(_done):
        raise stop

    with pytest.raises(stop):
        record(tmp_path, kind="watcher", started_by="watcher", batch_size=1, on_progress=stop_after_the_first)
    run = only_run()
    assert (run.status, run.error, run.imported) == ("interrupted", "stopped before the last files", 1)
    assert db.session.scalar(select(func.count()).select_from(Article)) == 1


def test_counts_and_refusals_are_written_together_or_not_at_all(app, tmp_path, monkeypatch):
    for name in ("bad1", "bad2", "bad3"):
        (tmp_path / f"{name}.md").write_text("no front matter\n", encoding="utf-8")
    monkeypatch.setattr(import_runs, "INSERT_CHUNK", 2)
    inserts = []

    def fail_the_second_chunk(conn, cursor, statement, parameters, context, executemany):
        if statement.startswith("INSERT INTO import_refusals"):
            inserts.append(statement)
            if len(inserts) == 2:
                raise RuntimeError("the disk filled up")

    event.listen(db.engine, "before_cursor_execute", fail_the_second_chunk)
    try:
        with pytest.raises(RuntimeError, match="the disk filled up"):
            record(tmp_path)
    finally:
        event.remove(db.engine, "before_cursor_execute", fail_the_second_chunk)
    run = only_run()
    assert (run.status, run.invalid, run.finished_at) == ("running", 0, None)
    assert refusals(run.id) == []
    # Left running by a process that is gone, it is marked interrupted by the next import.
    run.pid = 2**22 + 1  # above Linux's pid_max: no such process
    db.session.commit()
    assert import_runs.mark_interrupted() == [run.id]
    assert only_run().status == "interrupted"


def test_a_run_of_a_live_process_or_another_host_is_left_running(app):
    mine = ImportRun(kind="command", source="x", started_by="command line")
    mine.host, mine.pid, mine.process_start = this_process()
    elsewhere = ImportRun(kind="watcher", source="y", started_by="watcher", host="another-host", pid=1)
    db.session.add_all([mine, elsewhere])
    db.session.commit()
    assert import_runs.mark_interrupted() == []
    assert {run.status for run in db.session.scalars(select(ImportRun))} == {"running"}


def test_runs_and_refusals_come_a_page_at_a_time(app, tmp_path):
    for number in range(5):
        (tmp_path / f"bad{number}.md").write_text("no front matter\n", encoding="utf-8")
    run = record(tmp_path)
    first = import_runs.refusals_page(run.id, limit=3)
    assert [r.file for r in first.items] == [str(tmp_path / f"bad{n}.md") for n in range(3)]
    rest = import_runs.refusals_page(run.id, after=first.next_cursor, limit=3)
    assert ([r.position for r in rest.items], rest.next_cursor) == ([3, 4], None)

    ids = [run.id] + [record(tmp_path / "nothing").id for _ in range(4)]
    newest = import_runs.runs_page(limit=2)
    assert [r.id for r in newest.items] == ids[::-1][:2]
    older = import_runs.runs_page(before=newest.next_cursor, limit=2)
    last = import_runs.runs_page(before=older.next_cursor, limit=2)
    assert [r.id for r in older.items + last.items] == ids[::-1][2:]
    assert last.next_cursor is None
