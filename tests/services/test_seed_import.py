"""Seed import into the database: exact fields, refusals that store nothing, idempotency, conflicts,
and the duplicate suggestions stored with each article."""

import copy
import json
import shutil
from datetime import UTC, datetime

import pytest
from bs4 import BeautifulSoup
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError

from tests.factories import (
    BAD_SEEDS,
    MINIMAL,
    REAL_SEED,
    SEEDS,
    real_seed_titled,
    seed_mappings,
    seed_text,
    write_seed,
)
from webapp.formats.duplicates import SAME_HEADLINE
from webapp.formats.seeds import NAME_MAX_CHARACTERS
from webapp.models import (
    APPROVED,
    Article,
    AuditEvent,
    DuplicateSuggestion,
    ImportRun,
    RelatedLink,
    Topic,
    article_topics,
    db,
)
from webapp.services import seed_import
from webapp.services.seed_import import import_paths

LIMIT = 2 * 1024 * 1024


def run_import(*paths, max_bytes=LIMIT):
    return import_paths([str(p) for p in paths], max_bytes=max_bytes)


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def article(identity: str) -> Article:
    return db.session.scalar(select(Article).where(Article.identity == identity))


def test_real_seed_is_stored_with_every_field_exact(app):
    report = run_import(SEEDS)
    assert (report.imported, report.invalid) == (1, 0)
    stored = article("000_153b8be9e8e41660")
    assert (
        stored.title
        == "Met Police roll out facial recognition technology to tackle London\u2019s shoplifting"
    )
    assert stored.published_at == datetime(2023, 10, 19, 13, 22, tzinfo=UTC)
    assert [topic.name for topic in stored.topics] == ["Natural Language Processing", "AI", "Computer Vision"]
    assert [link.provider_name for link in stored.related] == [
        "Fox News",
        "PoliticsHome",
        "Nextgov",
        "Government Executive",
        "BBC",
        "Irish Sun",
        "Government Technology",
    ]
    assert [link.position for link in stored.related] == list(range(7))
    first = stored.related[0]
    assert first.amp_web_url == (
        "https://www.foxnews.com/tech/stores-spying-using-creepy-facial-recognition-technology-without-consent.amp"
    )
    assert first.cdn_amp_web_url == (
        "https://www-foxnews-com.cdn.ampproject.org/c/s/www.foxnews.com/tech/"
        "stores-spying-using-creepy-facial-recognition-technology-without-consent.amp"
    )
    assert first.images[0]["width"] == 1200 and first.images[0]["isCached"] is True
    assert first.published_at == datetime(2023, 10, 15, 10, 56, tzinfo=UTC)
    text = REAL_SEED.read_text(encoding="utf-8")
    assert f'secured: "{stored.secured}"\n' in text and len(stored.secured) == 561
    assert stored.source_text == text and stored.source_name == REAL_SEED.name
    assert (stored.quality, stored.heat, stored.seed_published, stored.status, stored.version) == (
        16,
        -1,
        False,
        "pending",
        1,
    )
    assert stored.published_at.tzinfo is not None


def test_unknown_keys_body_and_dates_in_extras_survive_the_database(app, tmp_path):
    path = tmp_path / "odd.md"
    path.write_text(
        seed_text(
            MINIMAL + "lang: en\nfeed:\n  since: 2020-01-02\n  at: 2021-03-04T05:06:07Z\n  tags: [a, b]\n"
            "related:\n  - title: R\n    webUrl: https://r.example/x\n    syndication: {via: AP}\n",
            body="# Body\n\nText.\n",
        ),
        encoding="utf-8",
    )
    run_import(path)
    db.session.expire_all()
    stored = article("odd")
    assert list(stored.extra) == ["lang", "feed"]
    assert stored.extra["feed"]["since"].isoformat() == "2020-01-02"
    assert stored.extra["feed"]["at"] == datetime(2021, 3, 4, 5, 6, 7, tzinfo=UTC)
    assert stored.body == "# Body\n\nText.\n"
    assert stored.related[0].extra == {"syndication": {"via": "AP"}}
    assert stored.key_order[-3:] == ["lang", "feed", "related"]


@pytest.mark.parametrize("name", BAD_SEEDS)
def test_each_bad_file_is_refused_whole_and_good_files_beside_it_import(app, tmp_path, name):
    text, message = BAD_SEEDS[name]
    (tmp_path / "bad.md").write_text(text, encoding="utf-8")
    shutil.copy(REAL_SEED, tmp_path)
    report = run_import(tmp_path)
    assert (report.imported, report.invalid) == (1, 1)
    assert report.errors[0]["file"] == str(tmp_path / "bad.md")
    assert message in report.errors[0]["message"]
    assert article("bad") is None
    assert count(Article) == 1 and count(RelatedLink) == 7 and count(Topic) == 3


@pytest.mark.parametrize(
    "data, message",
    [
        (b"---\ntitle: \xff\n---\n", "line 2: not UTF-8: byte 0xff"),
        (b"", "line 1: no front matter"),
        (b"\x00\x01\x02", "contains a NUL character"),
    ],
)
def test_undecodable_files_are_refused(app, tmp_path, data, message):
    (tmp_path / "bad.txt").write_bytes(data)
    report = run_import(tmp_path)
    assert report.invalid == 1 and message in report.errors[0]["message"]
    assert count(Article) == 0


def test_file_over_seed_max_bytes_is_refused_without_storing(app, tmp_path):
    shutil.copy(REAL_SEED, tmp_path)
    report = run_import(tmp_path, max_bytes=1000)
    assert report.invalid == 1 and "over the limit of 1,000 (SEED_MAX_BYTES)" in report.errors[0]["message"]
    assert count(Article) == 0


def test_reimport_is_a_no_op(app):
    run_import(SEEDS)
    before = db.session.execute(select(Article.id, Article.version, Article.updated_at)).all()
    report = run_import(SEEDS)
    assert (report.imported, report.updated, report.unchanged) == (0, 0, 1)
    assert db.session.execute(select(Article.id, Article.version, Article.updated_at)).all() == before
    assert count(RelatedLink) == 7


def test_changed_pending_seed_updates_its_article(app, tmp_path):
    path = tmp_path / REAL_SEED.name
    shutil.copy(REAL_SEED, path)
    run_import(path)
    original_id = article("000_153b8be9e8e41660").id
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("quality: 16", "quality: 17").replace("  - AI\n", ""), encoding="utf-8")
    report = run_import(path)
    assert (report.imported, report.updated) == (0, 1)
    db.session.expire_all()
    updated = article("000_153b8be9e8e41660")
    assert (updated.id, updated.quality, updated.version) == (original_id, 17, 2)
    assert [t.name for t in updated.topics] == ["Natural Language Processing", "Computer Vision"]
    assert count(RelatedLink) == 7 and count(article_topics) == 2


@pytest.mark.parametrize("moderated_by", ["status", "audit event"])
def test_changed_moderated_seed_is_a_conflict_and_moderation_is_kept(app, tmp_path, moderated_by):
    path = tmp_path / REAL_SEED.name
    shutil.copy(REAL_SEED, path)
    run_import(path)
    stored = article("000_153b8be9e8e41660")
    if moderated_by == "status":
        stored.status, stored.heat = APPROVED, 120
    else:
        stored.heat = 120
        db.session.add(AuditEvent(action="heat", article=stored, before={"heat": -1}, after={"heat": 120}))
    db.session.commit()
    path.write_text(path.read_text(encoding="utf-8").replace("quality: 16", "quality: 99"), encoding="utf-8")
    report = run_import(path)
    assert (report.updated, report.conflicts) == (0, 1)
    assert "already moderated" in report.conflicting[0]["message"]
    db.session.expire_all()
    kept = article("000_153b8be9e8e41660")
    assert (kept.quality, kept.heat) == (16, 120)


def test_same_identity_twice_in_one_import_is_refused(app, tmp_path):
    (tmp_path / "a").mkdir()
    shutil.copy(REAL_SEED, tmp_path / "a" / "same.txt")
    shutil.copy(REAL_SEED, tmp_path / "same.md")
    report = run_import(tmp_path)
    assert (report.imported, report.invalid) == (1, 1)
    assert "same identity 'same'" in report.errors[0]["message"]


def test_folders_recurse_for_md_and_txt_and_globs_expand(app, tmp_path):
    (tmp_path / "deep" / "er").mkdir(parents=True)
    shutil.copy(REAL_SEED, tmp_path / "deep" / "er" / "one.md")
    shutil.copy(REAL_SEED, tmp_path / "deep" / "two.txt")
    shutil.copy(REAL_SEED, tmp_path / "three.yaml")
    (tmp_path / "notes.json").write_text("{}")
    report = run_import(tmp_path)
    assert report.imported == 2 and report.invalid == 0
    report = import_paths([str(tmp_path / "*.yaml"), str(tmp_path / "missing-*.md")], max_bytes=LIMIT)
    assert report.imported == 1
    assert report.errors == [
        {
            "file": str(tmp_path / "missing-*.md"),
            "message": "no such file or folder (nor any file matching it as a pattern)",
        }
    ]


def test_cli_prints_summary_and_exits_0(runner):
    result = runner.invoke(args=["seeds", "import", str(SEEDS)])
    assert result.exit_code == 0, result.output
    assert "imported 1, updated 0, unchanged 0, invalid 0, conflicts 0" in result.output


def test_cli_json_report_and_exit_1_on_invalid(runner, tmp_path):
    shutil.copy(REAL_SEED, tmp_path)
    (tmp_path / "broken.md").write_text("no front matter\n")
    result = runner.invoke(args=["seeds", "import", "--json", str(tmp_path)])
    assert result.exit_code == 1
    report = json.loads(result.stdout)
    assert {k: report[k] for k in ("imported", "updated", "unchanged", "conflicts", "invalid")} == {
        "imported": 1,
        "updated": 0,
        "unchanged": 0,
        "conflicts": 0,
        "invalid": 1,
    }
    assert report["errors"] == [
        {
            "file": str(tmp_path / "broken.md"),
            "message": "line 1: no front matter: a seed starts with a line '---'",
        }
    ]


def test_cli_uses_seed_max_bytes_from_config(app, runner):
    app.config["SEED_MAX_BYTES"] = 100
    result = runner.invoke(args=["seeds", "import", "--json", str(SEEDS)])
    assert result.exit_code == 1 and json.loads(result.stdout)["invalid"] == 1


def test_a_database_failure_in_a_batch_keeps_the_other_files(app, tmp_path, monkeypatch):
    for name in ("a", "b", "c"):
        shutil.copy(REAL_SEED, tmp_path / f"{name}.txt")
    from webapp.services import seed_import

    real_row = seed_import.article_row

    def failing_row(seed_file, now):
        row = real_row(seed_file, now)
        if seed_file.identity == "b":
            row["title"] = None  # violates NOT NULL
        return row

    monkeypatch.setattr(seed_import, "article_row", failing_row)
    report = run_import(tmp_path)
    assert (report.imported, report.invalid) == (2, 1)
    assert report.errors[0]["file"].endswith("b.txt") and "could not be stored" in report.errors[0]["message"]
    assert sorted(db.session.scalars(select(Article.identity))) == ["a", "c"]
    assert count(RelatedLink) == 14


def test_related_titles_with_numbers_of_hundreds_of_digits_import(app, tmp_path):
    """Issue 11, item 1: 400 digits made float() infinite and the whole import died."""
    huge = "9" * 400
    text = REAL_SEED.read_text(encoding="utf-8")
    related = [entry.split("\n", 1)[0] for entry in text.split("  - title: ")[1:3]]
    for entry, verb in zip(related, ("approved", "passed"), strict=True):
        text = text.replace(
            f"  - title: {entry}\n", f'  - title: "City budget of {huge} dollars {verb}"\n', 1
        )
    (tmp_path / "huge.txt").write_text(text, encoding="utf-8")
    shutil.copy(REAL_SEED, tmp_path)
    report = run_import(tmp_path)
    assert (report.imported, report.invalid) == (2, 0), report.errors
    stored = article("huge")
    assert [link.title for link in stored.related[:2]] == [
        f"City budget of {huge} dollars approved",
        f"City budget of {huge} dollars passed",
    ]


def test_names_at_the_length_limit_are_stored_and_indexed(app, tmp_path):
    """300 four-byte characters, 1,200 bytes: within PostgreSQL's limit for an index entry."""
    longest = "\U0001f4a5" * NAME_MAX_CHARACTERS
    text = seed_text(
        MINIMAL.replace("category: news", f"category: {longest}")
        .replace("name: Example", f"name: {longest}")
        .replace("domain: example.com", f"domain: {longest}")
        + f"topics:\n  - {longest}\n"
    )
    (tmp_path / "longest.md").write_text(text, encoding="utf-8")
    report = run_import(tmp_path)
    assert (report.imported, report.invalid) == (1, 0), report.errors
    stored = article("longest")
    assert stored.category == stored.provider_name == stored.provider_domain == longest
    assert [topic.name for topic in stored.topics] == [longest]


@pytest.mark.parametrize("published", ["9999-12-31T23:59:59-14:00", "0001-01-01T00:00:00+14:00"])
def test_a_date_past_the_calendar_in_utc_is_refused_with_a_message(app, tmp_path, published):
    """Found by the fuzz test: the conversion to UTC overflowed, an internal error."""
    text = REAL_SEED.read_text(encoding="utf-8").replace("2023-10-19T13:22:00Z", published, 1)
    (tmp_path / "edge.txt").write_text(text, encoding="utf-8")
    report = run_import(tmp_path)
    assert report.invalid == 1 and count(Article) == 0
    assert report.errors[0]["message"] == (
        f"publishedDateTime: {published} is out of range: in UTC it falls outside years 1 to 9999"
    )


def fail_for(title_word: str, error: Exception):
    """A stand-in for a function of a seed, raising `error` for the seed whose title has the word."""

    def failing(real):
        def call(*args):
            seeds = [arg for arg in args if hasattr(arg, "title")] + [
                arg.seed for arg in args if hasattr(arg, "seed")
            ]
            if any(title_word in seed.title for seed in seeds):
                raise error
            return real(*args)

        return call

    return failing


def failing_lookup(real):
    def lookup(self, identities):
        if "b" in identities:
            raise OperationalError("SELECT", {}, Exception("server closed the connection"))
        return real(self, identities)

    return lookup


# Where an unforeseen error can strike one file: reading it (the suggestions), computing what it
# stores (its story keys, its rows), the database storing it, or looking it up.
FAILURES = {
    "suggestions": ("seed_suggestions", fail_for("Boom", OverflowError("int too large")), "reading"),
    "story keys": ("key_sources", fail_for("Boom", KeyError("kind")), "storing"),
    "rows": ("related_rows", fail_for("Boom", TypeError("not JSON")), "storing"),
    "lookup": ("_Importer._existing", failing_lookup, None),
}


@pytest.fixture
def logged(caplog, monkeypatch):
    """caplog, with the importer's logger on: the migrations' logging.config.fileConfig turned it off."""
    monkeypatch.setattr(seed_import.logger, "disabled", False)
    return caplog


@pytest.mark.parametrize("stage", FAILURES)
def test_an_unexpected_error_refuses_one_file_and_the_import_goes_on(
    app, tmp_path, monkeypatch, logged, stage
):
    for name in "abcde":
        title = "Boom goes the budget" if name == "b" else f"Story {name} of the week"
        (tmp_path / f"{name}.txt").write_text(real_seed_titled(title), encoding="utf-8")
    name, wrap, doing = FAILURES[stage]
    owner, _, attribute = name.rpartition(".")
    target = getattr(seed_import, owner) if owner else seed_import
    monkeypatch.setattr(target, attribute, wrap(getattr(target, attribute)))
    report = seed_import.import_paths([str(tmp_path)], max_bytes=LIMIT, batch_size=2)  # [a b] [c d] [e]
    assert (report.imported, report.invalid) == (4, 1), report.errors
    [error] = report.errors
    assert error["file"] == str(tmp_path / "b.txt")
    if doing:
        assert error["message"].startswith(f"internal error while {doing}: "), error
    else:
        assert error["message"] == "could not be stored: server closed the connection"
    assert sorted(db.session.scalars(select(Article.identity))) == ["a", "c", "d", "e"]
    assert count(RelatedLink) == 4 * 7 and count(article_topics) == 4 * 3
    [logged] = [record for record in logged.records if record.levelname == "ERROR"]
    assert "b.txt" in logged.getMessage() and logged.exc_info


def test_a_changed_file_that_fails_leaves_its_article_as_it_was(app, tmp_path, monkeypatch):
    path = tmp_path / "s.txt"
    path.write_text(real_seed_titled("Story of the week"), encoding="utf-8")
    run_import(path)
    before = db.session.execute(
        select(Article.id, Article.title, Article.version, Article.content_hash)
    ).all()
    path.write_text(real_seed_titled("Boom: the story of the week"), encoding="utf-8")
    monkeypatch.setattr(
        seed_import, "key_sources", fail_for("Boom", KeyError("kind"))(seed_import.key_sources)
    )
    report = run_import(path)
    assert (report.updated, report.invalid) == (0, 1)
    assert report.errors[0]["message"] == "internal error while storing: KeyError: 'kind'"
    db.session.expire_all()
    assert (
        db.session.execute(select(Article.id, Article.title, Article.version, Article.content_hash)).all()
        == before
    )
    assert count(RelatedLink) == 7


@pytest.mark.parametrize("as_json", [True, False])
def test_cli_prints_the_summary_and_exits_1_after_an_unexpected_error(runner, tmp_path, monkeypatch, as_json):
    (tmp_path / "boom.txt").write_text(real_seed_titled("Boom goes the budget"), encoding="utf-8")
    shutil.copy(REAL_SEED, tmp_path)
    monkeypatch.setattr(
        seed_import,
        "seed_suggestions",
        fail_for("Boom", ZeroDivisionError("division by zero"))(seed_import.seed_suggestions),
    )
    result = runner.invoke(args=["seeds", "import", *(["--json"] if as_json else []), str(tmp_path)])
    assert result.exit_code == 1 and result.exception is None or isinstance(result.exception, SystemExit)
    message = "internal error while reading: ZeroDivisionError: division by zero"
    if as_json:
        summary = json.loads(result.stdout)
        assert (summary["imported"], summary["invalid"]) == (1, 1)
        assert summary["errors"] == [{"file": str(tmp_path / "boom.txt"), "message": message}]
    else:
        assert f"invalid: {tmp_path / 'boom.txt'}: {message}" in result.output
        assert "imported 1, updated 0, unchanged 0, invalid 1, conflicts 0" in result.stdout


def test_the_summary_prints_even_when_the_import_itself_fails(runner, tmp_path, monkeypatch):
    shutil.copy(REAL_SEED, tmp_path)

    def broken(*args, **kwargs):
        raise RuntimeError("the database went away mid-rollback")

    monkeypatch.setattr(seed_import._Importer, "import_batch", broken)
    result = runner.invoke(args=["seeds", "import", "--json", str(tmp_path)])
    assert result.exit_code == 1 and isinstance(result.exception, RuntimeError)
    summary = json.loads(result.stdout)
    assert summary["imported"] == 0
    # The run says so too.
    run = db.session.get(ImportRun, summary["run"])
    assert (run.status, run.error) == ("failed", "RuntimeError: the database went away mid-rollback")
    assert run.finished_at is not None and run.imported == 0


def test_article_row_leaves_the_seed_file_as_it_was(app, tmp_path, monkeypatch):
    from webapp.services import seed_import

    real_row = seed_import.article_row
    calls = []

    def checked_row(seed_file, now):
        before = copy.deepcopy(vars(seed_file))
        row = real_row(seed_file, now)
        calls.append((vars(seed_file) == before, row["suggestion_count"]))
        return row

    monkeypatch.setattr(seed_import, "article_row", checked_row)
    shutil.copy(REAL_SEED, tmp_path / "a.txt")
    run_import(tmp_path)
    (tmp_path / "a.txt").write_text(
        REAL_SEED.read_text(encoding="utf-8") + "\nMore body.\n", encoding="utf-8"
    )
    assert run_import(tmp_path).updated == 1
    assert calls == [(True, 1), (True, 1)]  # imported, then updated
    assert db.session.scalar(select(Article.suggestion_count)) == 1


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(mapping=seed_mappings, body=st.sampled_from(["", "\n", "# Title\n\nBody text.\n"]))
def test_generated_valid_seeds_import(app, tmp_path_factory, mapping, body):
    import yaml

    folder = tmp_path_factory.mktemp("gen")
    front = yaml.dump(mapping, Dumper=yaml.CSafeDumper, allow_unicode=True, sort_keys=False)
    (folder / "generated.md").write_text(f"---\n{front}---\n{body}", encoding="utf-8")
    report = run_import(folder)
    assert report.invalid == 0, report.errors
    db.session.expire_all()
    stored = article("generated")
    assert stored.title == mapping["title"] and stored.published_at == mapping["publishedDateTime"]
    assert [t.name for t in stored.topics] == list(dict.fromkeys(mapping.get("topics", [])))
    assert [link.title for link in stored.related] == [entry["title"] for entry in mapping.get("related", [])]
    assert (stored.extra or {}).get("customKey") == mapping.get("customKey")
    assert stored.body == body
    db.session.delete(stored)
    db.session.commit()


def test_progress_bar_shows_on_a_terminal_for_long_imports(monkeypatch):
    import io
    import sys

    from webapp.cli import _progress

    class Terminal(io.StringIO):
        def isatty(self):
            return True

    terminal = Terminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    with _progress(1000, show=True) as advance:
        advance(500)
        advance(500)
    assert "Importing seeds" in terminal.getvalue() and "100%" in terminal.getvalue()
    quiet = Terminal()
    monkeypatch.setattr(sys, "stderr", quiet)
    with _progress(1000, show=False) as advance:
        advance(1000)
    assert quiet.getvalue() == ""


def test_import_stores_the_suggestions_and_the_queue_shows_and_filters_them(client, login, tmp_path):
    write_seed(tmp_path, "plain", title="Plain story")
    import_paths([str(SEEDS), str(tmp_path)], max_bytes=2**21)
    real = db.session.scalar(select(Article).where(Article.identity == REAL_SEED.stem))
    assert real.suggestion_count == 1
    assert [(s.positions, s.reason) for s in db.session.scalars(select(DuplicateSuggestion))] == [
        ([2, 3], SAME_HEADLINE)
    ]

    login()
    page = BeautifulSoup(client.get("/?status=all").get_data(as_text=True), "html.parser")
    counts = {row["id"]: row.find_all("td")[8].get_text(strip=True) for row in page.select("tr.row")}
    assert counts == {f"article-{real.id}": "1", f"article-{real.id + 1}": "0"}
    filtered = BeautifulSoup(client.get("/?status=all&duplicates=1").get_data(as_text=True), "html.parser")
    assert [row["id"] for row in filtered.select("tr.row")] == [f"article-{real.id}"]
    assert filtered.find("input", attrs={"name": "duplicates"}).has_attr("checked")
    panel = BeautifulSoup(client.get(f"/articles/{real.id}").get_data(as_text=True), "html.parser")
    [suggestion] = panel.select("form.suggestion > p")
    assert (
        " ".join(suggestion.get_text(" ", strip=True).split())
        == "Entries 3 and 4 look like one article: same headline"
    )


def test_a_changed_seed_gets_its_suggestions_again(app, tmp_path):
    text = REAL_SEED.read_text(encoding="utf-8")
    (tmp_path / "s.txt").write_text(text, encoding="utf-8")
    import_paths([str(tmp_path)], max_bytes=2**21)
    (tmp_path / "s.txt").write_text(
        text.replace(
            'Login.gov to add facial recognition tech"\n    excerpt: "The General',
            'Another headline entirely about it"\n    excerpt: "The General',
            1,
        ),
        encoding="utf-8",
    )
    report = import_paths([str(tmp_path)], max_bytes=2**21)
    assert report.updated == 1
    db.session.expire_all()
    assert db.session.scalar(select(Article.suggestion_count)) == 0
    assert db.session.scalar(select(DuplicateSuggestion)) is None
