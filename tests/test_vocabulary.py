"""One vocabulary: the actions table, the heat sentinel and the reasons, each spelled in one place."""

import ast
import re

import pytest
from bs4 import BeautifulSoup
from sqlalchemy import select

from tests.factories import ROOT, SEEDS
from webapp.formats import duplicates
from webapp.formats.seeds import HEAT_UNSET, heat_label
from webapp.models import APPROVED, REJECTED, STATUSES, Article, AuditEvent, db
from webapp.services import actions, audit_log, moderation, story_index
from webapp.services.seed_import import import_paths

TEMPLATES = sorted((ROOT / "templates").rglob("*.html"))
MODULES = sorted(path for path in (ROOT / "webapp").rglob("*.py") if "migrations" not in path.parts)
JINJA = re.compile(r"{{.*?}}|{%.*?%}", re.DOTALL)
STRING = re.compile(r"\"([^\"]*)\"|'([^']*)'")
PHRASES = {phrase for action in actions.ACTIONS.values() for phrase in (action.done, action.notice)}
PHRASES |= {action.done for action in actions.ACCOUNT_ACTIONS.values()}
ARTICLE_HEAT = re.compile(r"\b(?!errors\b|submitted\b)\w+\.heat\b(?!')")  # not a route, not the form's own
NUMBER_COMPARED = re.compile(r"[<>]=?\s*-?\d|[=!]=\s*-?\d|-\s*1\b")


def jinja_parts(path) -> list[str]:
    return JINJA.findall(path.read_text())


def test_every_action_has_every_phrase():
    assert set(actions.NAMES) == {"approve", "reject", "reopen", "heat", "merge", "unmerge", "absorb", "undo"}
    for name, action in actions.ACTIONS.items():
        assert action.name == name
        assert action.done.strip() and action.done == action.done.lower(), name
        assert action.notice.strip() and action.notice[0].isupper(), name
        assert isinstance(action.undoable, bool) and action.verdict in (None, *STATUSES), name


def test_every_account_action_has_its_phrase_and_no_article_action_its_name():
    assert set(actions.ACCOUNT_NAMES) == {
        "user_create",
        "user_role",
        "user_disable",
        "user_enable",
        "user_password_reset",
        "user_password_set",
        "user_sessions_end",
        "password_change",
    }
    assert not set(actions.ACCOUNT_NAMES) & set(actions.NAMES)
    for name, action in actions.ACCOUNT_ACTIONS.items():
        assert action.name == name and action.done.strip() and action.done == action.done.lower(), name
    assert all(len(name) <= AuditEvent.__table__.c.action.type.length for name in actions.AUDITED)


def test_the_derived_sets_come_from_the_table():
    assert actions.VERDICT_ACTIONS == {APPROVED: "approve", REJECTED: "reject"}
    assert moderation.VERDICT_ACTIONS is actions.VERDICT_ACTIONS and moderation.UNDOABLE is actions.UNDOABLE
    assert set(actions.UNDOABLE) == set(actions.NAMES)
    assert audit_log.ACTIONS == actions.AUDITED == actions.NAMES + actions.ACCOUNT_NAMES
    assert (actions.done_phrase("reopen"), actions.done_phrase("import")) == ("returned to pending", "import")
    assert actions.done_phrase("user_role") == "role changed"
    assert (actions.notice_phrase("heat"), actions.notice_phrase("import")) == ("Heat set on", "Changed")


@pytest.mark.parametrize("path", TEMPLATES, ids=lambda path: str(path.relative_to(ROOT / "templates")))
def test_templates_spell_no_action_phrase(path):
    text = path.read_text()
    several_words = [phrase for phrase in PHRASES if " " in phrase and phrase in text]
    # One-word phrases ("approved") are status words too: only a quoted Jinja string is a phrase.
    quoted = [
        "".join(match)
        for part in jinja_parts(path)
        for match in STRING.findall(part)
        if "".join(match) in PHRASES
    ]
    assert several_words + quoted == []


def test_modules_spell_no_action_phrase_outside_the_table():
    for path in MODULES:
        if path.name == "actions.py":
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                assert not (" " in node.value and node.value in PHRASES), (path, node.value)


@pytest.mark.parametrize("path", TEMPLATES, ids=lambda path: str(path.relative_to(ROOT / "templates")))
def test_templates_show_heat_through_its_filter_and_sentinel(path):
    for part in jinja_parts(path):
        if ARTICLE_HEAT.search(part):
            assert "heat_label" in part or "HEAT_UNSET" in part, part
        if "heat" in part.lower():
            assert not NUMBER_COMPARED.search(part), part


def test_modules_compare_heat_with_the_sentinel_not_a_number():
    for path in MODULES:
        for number, line in enumerate(path.read_text().splitlines(), start=1):
            if "heat" in line.lower() and not line.startswith("HEAT_UNSET = "):
                assert not NUMBER_COMPARED.search(line.replace("HEAT_BUCKET - 1", "")), f"{path}:{number}"


def test_heat_label_reads_the_sentinel_as_not_set(app):
    render = app.jinja_env.from_string
    assert render("{{ HEAT_UNSET|heat_label }}|{{ 0|heat_label }}|{{ 120|heat_label }}").render() == (
        "not set|0|120"
    )
    assert (heat_label(HEAT_UNSET), heat_label(None)) == ("not set", "not set")
    assert audit_log.change_summary("heat", {"heat": HEAT_UNSET}, {"heat": 40}) == "heat not set → 40"
    assert Article.__table__.c.heat.default.arg == HEAT_UNSET


def test_one_spelling_of_each_reason():
    assert (story_index.SAME_URL, story_index.SAME_HEADLINE) == (
        duplicates.SAME_URL,
        duplicates.SAME_HEADLINE,
    )
    for path in MODULES:
        if path.name != "duplicates.py":
            for node in ast.walk(ast.parse(path.read_text())):
                if isinstance(node, ast.Constant):
                    assert node.value not in (duplicates.SAME_URL, duplicates.SAME_HEADLINE), path


def test_recent_decisions_read_as_the_table_says(client, login):
    import_paths([str(SEEDS)], max_bytes=2**21)
    article = db.session.scalar(select(Article))
    user = login()
    moderation.decide(article.id, user, APPROVED, 1)
    moderation.reopen(article.id, user, 2)
    moderation.decide(article.id, user, REJECTED, 3)
    page = BeautifulSoup(client.get("/decisions/recent").get_data(as_text=True), "html.parser")
    recent = page.find("section", id="recent")
    assert [badge.get_text() for badge in recent.select(".badge")] == ["rejected", "approved"]
