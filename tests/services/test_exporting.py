"""Exporting approved articles: round trips, formats, the feed (--since-last), atomic writes, the CLI."""

import hashlib
import io
import signal
import socket
import subprocess
import sys
import time
import zipfile
from datetime import timedelta

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from tests.factories import REAL_SEED, ROOT, SEEDS, seed_mappings
from webapp.formats.seeds import parse, split_front_matter
from webapp.models import APPROVED, Article, ExportedArticle, ExportRun, User, db
from webapp.services import exporting, moderation, processes
from webapp.services.exporting import ExportError, ExportFilters, export
from webapp.services.seed_import import import_paths

LIMIT = 2**21


def approve(article: Article, user, heat: int | None = None) -> None:
    if heat is not None:
        moderation.set_heat(article.id, user, heat, article.version, 200)
        db.session.refresh(article)
    moderation.decide(article.id, user, APPROVED, article.version)
    db.session.expire_all()


def snapshot(article: Article) -> dict:
    """Every seed field of an article as stored, its related links included."""
    fields = (
        "category title excerpt published_at original_url web_url amp_web_url cdn_amp_web_url type "
        "quality heat provider_name provider_domain provider_extra images secured extra body"
    ).split()
    link_fields = (
        "position title excerpt published_at web_url amp_web_url cdn_amp_web_url type quality "
        "provider_name provider_domain provider_extra images extra key_order"
    ).split()
    state = {name: getattr(article, name) for name in fields}
    state["key_order"] = [key for key in article.key_order if key not in ("heat", "published")]
    state["topics"] = [topic.name for topic in article.topics]
    state["related"] = [{name: getattr(link, name) for name in link_fields} for link in article.related]
    return state


def run(out, fmt="dir", **filters) -> ExportRun:
    return export(out, fmt, ExportFilters(**filters), requested_by="test")


def exported_ids(run_id: int) -> set[int]:
    return set(db.session.scalars(select(ExportedArticle.article_id).where(ExportedArticle.run_id == run_id)))


def write_seeds(folder, names) -> None:
    """Small valid seeds, one per name, each with its own title and URL."""
    folder.mkdir(exist_ok=True)
    for name in names:
        (folder / f"{name}.md").write_text(
            f'---\ncategory: news\ntitle: "{name}"\npublishedDateTime: 2023-10-19T13:22:00Z\n'
            f'webUrl: "https://e.example/{name}"\nprovider:\n  name: E\n---\n',
            encoding="utf-8",
        )


@pytest.fixture
def corpus(app, make_user):
    """The real seed and the generator's seeds in the queue, with a moderator to approve them."""
    import_paths([str(SEEDS)], max_bytes=LIMIT)
    return make_user("maria")


def test_real_seed_round_trip_every_field_and_reimport_gives_the_same_article(app, corpus, tmp_path):
    article = db.session.scalar(select(Article))
    approve(article, corpus, heat=120)
    before = snapshot(article)
    result = run(tmp_path / "out")
    [path] = (tmp_path / "out").iterdir()
    assert path.name == REAL_SEED.name and result.count == 1
    exported = path.read_text(encoding="utf-8")
    seed, original = parse(exported), parse(REAL_SEED.read_text(encoding="utf-8"))
    assert seed.secured == original.secured and seed.body == original.body
    assert (seed.heat, seed.published) == (120, True)
    assert [entry.web_url for entry in seed.related] == [entry.web_url for entry in original.related]
    front = yaml.safe_load(split_front_matter(exported)[0])
    assert front["copydesk"] == {
        "approvedBy": "maria",
        "approvedAt": article.decided_at,
        "exportRun": result.id,
    }

    db.session.delete(article)
    db.session.commit()
    import_paths([str(path)], max_bytes=LIMIT)
    reimported = db.session.scalar(select(Article))
    assert snapshot(reimported) == before


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    mapping=seed_mappings,
    body=st.sampled_from(["", "\n", "# Title\n\nBody text.\n"]),
    heat=st.integers(-1, 200),
)
def test_generated_seeds_round_trip_and_reimport_the_same(
    app, make_user, tmp_path_factory, mapping, body, heat
):
    for model in (ExportedArticle, ExportRun, Article):
        db.session.query(model).delete()
    db.session.commit()
    folder = tmp_path_factory.mktemp("gen")
    source = (
        f"---\n{yaml.dump(mapping, Dumper=yaml.CSafeDumper, allow_unicode=True, sort_keys=False)}---\n{body}"
    )
    (folder / "generated.md").write_text(source, encoding="utf-8")
    assert import_paths([str(folder)], max_bytes=LIMIT).invalid == 0
    user = db.session.scalar(select(User)) or make_user("maria")
    article = db.session.scalar(select(Article))
    approve(article, user, heat=None if heat == -1 else heat)
    before = snapshot(article)

    out = tmp_path_factory.mktemp("out")
    run(out)
    exported = (out / "generated.md").read_text(encoding="utf-8")
    front = yaml.safe_load(split_front_matter(exported)[0])
    heat_now = heat if heat != -1 else mapping.get("heat", -1)  # -1: the moderator left the seed's heat
    expected = {**mapping, "published": True} | (
        {"heat": heat_now} if heat_now != -1 or "heat" in mapping else {}
    )
    assert {key: value for key, value in front.items() if key != "copydesk"} == expected
    assert [key for key in front if key not in ("heat", "published", "copydesk")] == [
        key for key in mapping if key not in ("heat", "published")
    ]
    assert split_front_matter(exported)[1] == body

    for model in (ExportedArticle, Article):
        db.session.query(model).delete()
    db.session.commit()
    import_paths([str(out / "generated.md")], max_bytes=LIMIT)
    assert snapshot(db.session.scalar(select(Article))) == before


def test_merged_links_export_one_entry_per_group_with_every_url(app, corpus, tmp_path):
    article = db.session.scalar(select(Article))
    links = article.related
    links[3].merged_into_id = links[2].id
    db.session.commit()
    approve(article, corpus)
    run(tmp_path)
    front = yaml.safe_load(split_front_matter((tmp_path / REAL_SEED.name).read_text(encoding="utf-8"))[0])
    assert len(front["related"]) == 6
    canonical = front["related"][2]
    assert canonical["webUrl"] == links[2].web_url
    assert [entry["webUrl"] for entry in canonical["mergedFrom"]] == [links[3].web_url]


def test_yaml_stream_holds_one_mapping_per_article_with_its_body(app, corpus, tmp_path):
    (tmp_path / "seeds").mkdir()
    (tmp_path / "seeds" / "with-body.md").write_text(
        '---\ncategory: news\ntitle: "B"\npublishedDateTime: 2023-10-19T13:22:00Z\nwebUrl: "https://e.example/b"\n'
        "provider:\n  name: E\n---\n# Heading\n\nText.\n",
        encoding="utf-8",
    )
    import_paths([str(tmp_path / "seeds")], max_bytes=LIMIT)
    for article in db.session.scalars(select(Article).order_by(Article.id)).all():
        approve(article, corpus)
    result = run(tmp_path / "all.yaml", "yaml")
    data = (tmp_path / "all.yaml").read_bytes()
    documents = list(yaml.safe_load_all(data))
    assert [document["title"] for document in documents] == [
        "Met Police roll out facial recognition technology to tackle London’s shoplifting",
        "B",
    ]
    assert documents[0]["copydesk"]["body"] == "\n"
    assert documents[1]["copydesk"]["body"] == "# Heading\n\nText.\n"
    assert result.count == 2 and result.sha256 == hashlib.sha256(data).hexdigest()


def test_zip_holds_the_dir_layout_with_fixed_metadata(app, corpus, tmp_path):
    approve(db.session.scalar(select(Article)), corpus)
    folder_run = run(tmp_path / "folder")
    zip_run = run(tmp_path / "a.zip", "zip")
    with zipfile.ZipFile(tmp_path / "a.zip") as archive:
        [member] = archive.infolist()
        zipped = archive.read(member).decode()
    # No clock in the archive: the same articles in the same run give the same bytes.
    assert (member.filename, member.date_time) == (REAL_SEED.name, (1980, 1, 1, 0, 0, 0))
    on_disk = (tmp_path / "folder" / REAL_SEED.name).read_text(encoding="utf-8")
    assert zipped == on_disk.replace(f"exportRun: {folder_run.id}", f"exportRun: {zip_run.id}")
    assert zip_run.sha256 == hashlib.sha256((tmp_path / "a.zip").read_bytes()).hexdigest()


def test_since_last_exports_nothing_twice_and_misses_nothing(app, corpus, tmp_path):
    write_seeds(tmp_path / "seeds", [f"story-{index:02}" for index in range(12)])
    import_paths([str(tmp_path / "seeds")], max_bytes=LIMIT)
    articles = db.session.scalars(select(Article).order_by(Article.id)).all()
    seen: list[int] = []
    for batch in (articles[:5], articles[5:8], [], articles[8:]):
        for article in batch:
            approve(article, corpus)
        run(tmp_path / "other.zip", "zip")  # a download beside the feed does not move it
        result = run(tmp_path / "feed", since_last=True)
        assert exported_ids(result.id) == {article.id for article in batch}
        seen += exported_ids(result.id)
    assert sorted(seen) == sorted(article.id for article in articles)

    changed = articles[0]
    moderation.set_heat(changed.id, corpus, 99, changed.version, 200)
    db.session.expire_all()
    assert exported_ids(run(tmp_path / "feed", since_last=True).id) == {changed.id}
    assert run(tmp_path / "feed", since_last=True).count == 0


def test_filters_choose_by_approval_time_provider_and_topic(app, corpus, tmp_path):
    article = db.session.scalar(select(Article))
    approve(article, corpus)
    decided = article.decided_at
    assert exporting.count(ExportFilters()) == 1
    assert exporting.count(ExportFilters(since=decided + timedelta(seconds=1))) == 0
    assert exporting.count(ExportFilters(until=decided)) == 0
    assert exporting.count(ExportFilters(since=decided, until=decided + timedelta(seconds=1))) == 1
    assert exporting.count(ExportFilters(provider="Business Matters", topic="AI", category="news")) == 1
    assert exporting.count(ExportFilters(provider="Nobody")) == 0
    assert exporting.count(ExportFilters(topic="Gardening")) == 0


@pytest.mark.parametrize("fmt,name", [("dir", "out"), ("zip", "out.zip"), ("yaml", "out.yaml")])
def test_an_export_that_fails_midway_leaves_no_file_and_is_recorded_as_failed(
    app, corpus, tmp_path, monkeypatch, fmt, name
):
    write_seeds(tmp_path / "seeds", ["a", "b", "c"])
    import_paths([str(tmp_path / "seeds")], max_bytes=LIMIT)
    for article in db.session.scalars(select(Article)).all():
        approve(article, corpus)
    calls = []
    real_front_matter, real_seed = exporting.exported_front_matter, exporting.exported_seed

    def fail_on_the_third(real):
        def wrapped(*args, **kwargs):
            calls.append(1)
            if len(calls) == 3:
                raise OSError(28, "No space left on device")
            return real(*args, **kwargs)

        return wrapped

    monkeypatch.setattr(exporting, "exported_front_matter", fail_on_the_third(real_front_matter))
    monkeypatch.setattr(exporting, "exported_seed", fail_on_the_third(real_seed))
    out = tmp_path / "exports"
    out.mkdir()
    with pytest.raises(OSError):
        run(out / name, fmt, since_last=True)
    # Nothing a reader would take: for dir, only the (empty) versions folder and its lock.
    assert sorted(p.name for p in out.rglob("*")) == ([".lock", ".out.copydesk"] if fmt == "dir" else [])
    failed = db.session.scalar(select(ExportRun))
    assert failed.status == "failed" and "No space left" in failed.error
    assert db.session.scalar(select(ExportedArticle)) is None

    monkeypatch.undo()
    assert run(out / name, fmt, since_last=True).count == 4


KILL_SCRIPT = """
import os, time
from pathlib import Path
from webapp import create_app
from webapp.services import exporting
from webapp.services.exporting import ExportFilters, export

def stall(real, nth):
    calls = []
    def stalled(*args, **kwargs):
        calls.append(1)
        if len(calls) == nth:
            Path({signal!r}).touch()
            time.sleep(60)
        return real(*args, **kwargs)
    return stalled

if {point!r} == "third document":
    exporting.exported_seed = stall(exporting.exported_seed, 3)
elif {point!r} == "carrying files forward":
    os.link = stall(os.link, 2)
else:  # the version is complete, the link not yet swapped
    os.symlink = stall(os.symlink, 1)
app = create_app({{"SQLALCHEMY_DATABASE_URI": {url!r}, "SECRET_KEY": "x"}})
with app.app_context():
    export(Path({out!r}), {fmt!r}, ExportFilters(since_last={fmt!r} == "dir"), requested_by="test")
"""


def kill_export_at(point: str, out, fmt: str, database_url: str, tmp_path) -> None:
    """Run an export in a child process and SIGKILL it when it reaches `point`."""
    signal_file = tmp_path / "reached"
    script = KILL_SCRIPT.format(signal=str(signal_file), point=point, url=database_url, out=str(out), fmt=fmt)
    process = subprocess.Popen([sys.executable, "-c", script], cwd=ROOT)
    try:
        deadline = time.monotonic() + 60
        while not signal_file.exists():
            assert process.poll() is None and time.monotonic() < deadline, f"the export never reached {point}"
            time.sleep(0.05)
        process.send_signal(signal.SIGKILL)
    finally:
        process.wait()


def read_set(out, fmt: str) -> dict[str, str]:
    """What a reader sees: every file's name and text."""
    if fmt == "dir":
        return {path.name: path.read_text(encoding="utf-8") for path in out.iterdir()}
    with zipfile.ZipFile(out) as archive:
        return {name: archive.read(name).decode() for name in archive.namelist()}


@pytest.mark.parametrize(
    "fmt,point",
    [
        ("dir", "third document"),
        ("dir", "carrying files forward"),
        ("dir", "swapping the link"),
        ("zip", "third document"),
    ],
)
def test_a_killed_export_leaves_the_old_complete_set_and_cleanup_removes_what_it_left(
    app, corpus, runner, tmp_path, fmt, point, database_url
):
    write_seeds(tmp_path / "seeds", [f"k{index}" for index in range(6)])
    import_paths([str(tmp_path / "seeds")], max_bytes=LIMIT)
    articles = db.session.scalars(select(Article).where(Article.source_name.like("k%"))).all()
    for article in articles[:3]:
        approve(article, corpus)
    out = tmp_path / ("exports" if fmt == "dir" else "exports.zip")
    # dir: feed runs, so the second writes k3-k5 and carries k0-k2 forward from the first.
    first_id = run(out, fmt, since_last=fmt == "dir").id
    old = read_set(out, fmt)
    assert sorted(old) == ["k0.md", "k1.md", "k2.md"]
    for article in articles[3:]:
        approve(article, corpus)
    db.session.remove()

    kill_export_at(point, out, fmt, database_url, tmp_path)
    assert read_set(out, fmt) == old  # the old complete set, not a part of the new one
    killed = db.session.scalar(select(ExportRun).where(ExportRun.id > first_id))
    assert killed.status == "running" and killed.pid and killed.host
    versions = tmp_path / ".exports.copydesk"
    leftovers = [p for p in tmp_path.rglob("*") if p.name.endswith(".tmp")]
    if fmt == "dir":
        leftovers += [
            p for p in versions.iterdir() if p.name.startswith("run-") and p.name != f"run-{first_id}"
        ]
    assert leftovers  # what the cleanup has to remove

    result = runner.invoke(args=["export", "--cleanup"])
    assert result.exit_code == 0, result.output
    assert f"run {killed.id}: its process is gone, marked interrupted" in result.output
    db.session.expire_all()
    killed = db.session.get(ExportRun, killed.id)
    assert killed.status == "interrupted" and "ended without finishing" in killed.error
    assert [p for p in tmp_path.rglob("*") if p.name.endswith(".tmp")] == []
    if fmt == "dir":
        assert sorted(p.name for p in versions.iterdir()) == [".lock", f"run-{first_id}"]
    assert read_set(out, fmt) == old

    new = run(out, fmt, since_last=fmt == "dir")
    assert new.status == "complete" and new.count == (3 if fmt == "dir" else 6)
    assert sorted(read_set(out, fmt)) == [f"k{index}.md" for index in range(6)] + ([] if fmt == "dir" else [])


def test_the_next_export_marks_a_dead_run_interrupted_and_removes_its_leftovers(app, corpus, tmp_path):
    approve(db.session.scalar(select(Article)), corpus)
    out = tmp_path / "out"
    run(out)
    dead = ExportRun(
        requested_by="test",
        format="dir",
        filters={},
        output=str(out),
        host=socket.gethostname(),
        pid=2**22 + 7,
    )
    db.session.add(dead)
    db.session.commit()
    versions = tmp_path / ".out.copydesk"
    (versions / f"run-{dead.id}.tmp").mkdir()
    (versions / f"run-{dead.id}.tmp" / "half.md").write_text("---\n")
    (tmp_path / f".out.zip.copydesk-{dead.id}-x.tmp").write_text("partial")
    run(out)
    db.session.expire_all()
    assert db.session.get(ExportRun, dead.id).status == "interrupted"
    assert not (versions / f"run-{dead.id}.tmp").exists()
    assert not (tmp_path / f".out.zip.copydesk-{dead.id}-x.tmp").exists()
    # Kept: the version the link names and the one before it, for a reader that resolved the link.
    assert len([p for p in versions.iterdir() if p.name.startswith("run-")]) == 2


def test_a_live_run_keeps_its_staging_and_a_second_export_to_the_folder_waits(app, corpus, tmp_path):
    approve(db.session.scalar(select(Article)), corpus)
    out = tmp_path / "out"
    writer = exporting._FolderWriter(out, 999)  # this process: alive
    live = ExportRun(id=999, requested_by="test", format="dir", filters={}, output=str(out))
    live.host, live.pid, live.process_start = processes.this_process()
    db.session.add(live)
    db.session.commit()
    with pytest.raises(ExportError, match="another export is writing"):
        run(out)
    assert writer.staging.is_dir() and db.session.get(ExportRun, 999).status == "running"
    writer.abort()


def test_a_plain_folder_from_an_older_version_becomes_the_link_keeping_its_files(app, corpus, tmp_path):
    approve(db.session.scalar(select(Article)), corpus)
    out = tmp_path / "out"
    out.mkdir()
    (out / "earlier.md").write_text("---\ntitle: earlier\n---\n")
    (out / ".copydesk-export-4.tmp").mkdir()  # an older version's staging, left by a kill
    run(out)
    assert out.is_symlink() and sorted(p.name for p in out.iterdir()) == sorted(
        ["earlier.md", REAL_SEED.name]
    )


def test_cli_writes_the_folder_and_reports_the_run(app, corpus, runner, tmp_path):
    approve(db.session.scalar(select(Article)), corpus)
    result = runner.invoke(args=["export", "--out", str(tmp_path / "out")])
    assert result.exit_code == 0, result.output
    run_ = db.session.scalar(select(ExportRun))
    assert (
        f"exported 1 approved articles to {tmp_path / 'out'} (run {run_.id}, sha256 {run_.sha256})"
        in result.output
    )
    assert run_.requested_by == "command line" and run_.status == "complete" and run_.feed is False


def test_cli_yaml_to_stdout(app, corpus, runner):
    approve(db.session.scalar(select(Article)), corpus)
    result = runner.invoke(args=["export", "--out", "-", "--format", "yaml", "--since-last"])
    assert result.exit_code == 0, result.output
    [document] = yaml.safe_load_all(result.stdout_bytes)
    assert document["published"] is True and db.session.scalar(select(ExportRun.feed)) is True


@pytest.mark.parametrize(
    "args,message",
    [
        (["--since", "2026-01-01", "--since-last"], "give --since or --since-last, not both"),
        (["--since", "yesterday"], "'yesterday' is not a date or time like 2023-10-19"),
        (["--format", "zip", "--out", "-"], "--out - (stdout) needs --format yaml"),
        (["--format", "tar"], "'tar' is not one of 'dir', 'zip', 'yaml'"),
    ],
)
def test_cli_refuses_bad_options_with_a_clear_message(app, runner, tmp_path, args, message):
    if "--out" not in args:
        args = [*args, "--out", str(tmp_path / "x")]
    result = runner.invoke(args=["export", *args])
    assert result.exit_code != 0 and message in result.output
    assert db.session.scalar(select(ExportRun)) is None


def test_cli_refuses_a_file_where_the_folder_goes(app, corpus, runner, tmp_path):
    (tmp_path / "taken").write_text("mine")
    result = runner.invoke(args=["export", "--out", str(tmp_path / "taken")])
    assert result.exit_code == 1 and "is a file; the dir format writes into a folder" in result.output
    assert (tmp_path / "taken").read_text() == "mine"


def test_only_yaml_goes_to_a_stream(app):
    with pytest.raises(ExportError, match="only the yaml format"):
        export(io.BytesIO(), "zip", ExportFilters(), requested_by="test")
