"""Every exported document parses and holds the right values, whatever layout the seed had.

Seeds are generated as text, in the layouts the importer accepts: empty values, byte-order
marks (at the file's start and just after the opening `---`), comments, flow collections,
odd indentation, CRLF line endings and every scalar style (plain, single- and double-quoted,
literal and folded blocks). Each goes through the real import and the real export (`dir`
and `yaml`), and the exported document is read back.
"""

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from webapp.formats.seeds import load_front_matter, parse, split_front_matter
from webapp.models import APPROVED, Article, ExportedArticle, ExportRun, User, db
from webapp.services import moderation
from webapp.services.exporting import ExportFilters, export
from webapp.services.seed_import import import_paths

LIMIT = 2**21
WORDS = st.lists(
    st.sampled_from(["city", "budget", "Ünïcode", "lanes", "x-ray", "#tag", "a:b", "o'k"]), min_size=1
)
TEXT_STYLES = ("plain", "single", "double", "literal", "folded")


def quoted_single(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def quoted_double(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


@st.composite
def scalar_text(draw, indent: int, plain_ok: bool = True) -> str:
    """A text value written after `key:` in one of the scalar styles (its leading space included)."""
    words = draw(WORDS)
    text = "word " + " ".join(words)  # starts with a letter: never read as a number, bool or null
    style = draw(st.sampled_from(TEXT_STYLES if plain_ok else TEXT_STYLES[1:]))
    if style == "plain" and ("#" not in text and ": " not in text):
        return " " + text + draw(st.sampled_from(["", "  # a comment"]))
    if style in ("plain", "single"):
        return " " + quoted_single(text)
    if style == "double":
        return " " + quoted_double(text)
    pad = " " * (indent + draw(st.integers(1, 4)))
    lines = [text, *draw(st.lists(st.sampled_from(["more words", "", "  indented"]), max_size=3)), "end"]
    header = draw(st.sampled_from(["", "-", "+"]))
    return f" {'|' if style == 'literal' else '>'}{header}\n" + "\n".join(
        pad + line if line else "" for line in lines
    )


def empty_value() -> st.SearchStrategy[str]:
    return st.sampled_from(["", "   ", " # left empty", " ~", " null"])


@st.composite
def provider(draw) -> str:
    name, domain = "Provider " + draw(st.sampled_from(["One", "Two"])), "p.example"
    if draw(st.booleans()):
        return f" {{name: {quoted_double(name)}, domain: {domain}}}"
    pad = " " * draw(st.sampled_from([1, 2, 3, 5]))
    name_value = draw(scalar_text(len(pad)))
    return f"\n{pad}name:{name_value}\n{pad}domain: {domain}"


@st.composite
def topics(draw) -> str:
    names = draw(st.lists(st.sampled_from(["AI", "Local", "City hall"]), min_size=1, max_size=3))
    if draw(st.booleans()):
        return " [" + ", ".join(quoted_double(name) for name in names) + "]"
    pad = " " * draw(st.sampled_from([0, 1, 2, 4]))
    return "".join(f"\n{pad}- {quoted_single(name)}" for name in names)


@st.composite
def seed_texts(draw) -> str:
    """A seed file's text: the fields in a random order, each in a random layout."""
    fields = {
        "category": draw(scalar_text(0)),
        "title": draw(scalar_text(0)),
        "publishedDateTime": draw(st.sampled_from([" 2023-10-19T13:22:00Z", ' "2023-10-19T13:22:00Z"'])),
        "webUrl": draw(st.sampled_from([" https://e.example/a?b=1&c=2", " 'https://e.example/a'"])),
        "provider": draw(provider()),
    }
    optional = {
        "excerpt": st.one_of(scalar_text(0), empty_value()),
        "type": st.one_of(st.just(" story"), empty_value()),
        "quality": st.one_of(st.sampled_from([" 3", " 0"]), empty_value()),
        "heat": st.one_of(st.sampled_from([" 5", " -1", " 120", "  7  # hot"]), empty_value()),
        "published": st.one_of(st.sampled_from([" false", " true", " False"]), empty_value()),
        "topics": topics(),
        "unknownKey": st.one_of(scalar_text(0), empty_value(), st.just(" {a: 1, b: [x, y]}")),
    }
    for name, strategy in optional.items():
        if draw(st.booleans()):
            fields[name] = draw(strategy)
    order = draw(st.permutations(list(fields)))
    lines = []
    for name in order:
        if draw(st.integers(0, 5)) == 0:
            lines.append(draw(st.sampled_from(["# a comment line", "", "   # indented comment"])))
        lines.append(f"{name}:{fields[name]}")
    front = "\n".join(lines) + "\n" + draw(st.sampled_from(["", "# trailing comment\n", "\n"]))
    bom_in_front = "\ufeff" if draw(st.booleans()) else ""
    body = draw(st.sampled_from(["", "Body text.\n", "# Title\n\nBody\n"]))
    text = "---\n" + bom_in_front + front + "---\n" + body
    if draw(st.booleans()):
        text = text.replace("\n", "\r\n")
    return ("\ufeff" if draw(st.booleans()) else "") + text


def front_values(text: str) -> dict:
    return load_front_matter(split_front_matter(text.removeprefix("\ufeff"))[0])


@settings(
    max_examples=120,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(source=seed_texts(), heat=st.sampled_from([None, 0, 42, 199]))
def test_every_exported_document_parses_and_holds_the_right_values(
    app, make_user, tmp_path_factory, source, heat
):
    for model in (ExportedArticle, ExportRun, Article):
        db.session.query(model).delete()
    db.session.commit()
    folder = tmp_path_factory.mktemp("seed")
    (folder / "generated.md").write_bytes(source.encode("utf-8"))
    imported = import_paths([str(folder)], max_bytes=LIMIT)
    assert imported.invalid == 0, imported
    original = front_values(source)
    user = db.session.scalar(select(User)) or make_user("maria")
    article = db.session.scalar(select(Article))
    if heat is not None:
        moderation.set_heat(article.id, user, heat, article.version, 200)
        db.session.refresh(article)
    moderation.decide(article.id, user, APPROVED, article.version)
    db.session.expire_all()
    article = db.session.scalar(select(Article))
    expected_heat = article.heat if "heat" in original or article.heat != -1 else None

    out = tmp_path_factory.mktemp("out")
    run = export(out / "dir", "dir", ExportFilters(), requested_by="test")
    stream = export(out / "all.yaml", "yaml", ExportFilters(), requested_by="test")
    exported = (out / "dir" / "generated.md").read_bytes().decode("utf-8")
    parse(exported)  # the importer takes it
    [document] = [
        load_front_matter(text)
        for text in (out / "all.yaml").read_text(encoding="utf-8").split("---\n")
        if text.strip()
    ]
    body = split_front_matter(source.removeprefix("\ufeff"))[1]
    for values, run_id, copydesk_extra in (
        (front_values(exported), run.id, {}),
        (document, stream.id, {"body": body} if body else {}),
    ):
        assert values.get("heat") == expected_heat
        assert values["published"] is True
        assert values["copydesk"] == {
            "approvedBy": "maria",
            "approvedAt": article.decided_at,
            "exportRun": run_id,
            **copydesk_extra,
        }
        others = {key: value for key, value in values.items() if key not in ("heat", "published", "copydesk")}
        assert others == {key: value for key, value in original.items() if key not in ("heat", "published")}
    assert split_front_matter(exported.removeprefix("\ufeff"))[1] == body


@pytest.mark.parametrize(
    "front",
    ["heat:\npublished:\n", "heat: 5\npublished: false\n"],
    ids=["empty values", "values"],
)
@pytest.mark.parametrize("bom", ["", "\ufeff"], ids=["no BOM", "BOM after ---"])
def test_the_reported_seeds_export_as_valid_yaml(app, make_user, tmp_path, front, bom):
    seed = (
        f"---\n{bom}category: news\ntitle: T\npublishedDateTime: 2023-10-19T13:22:00Z\n"
        f"webUrl: https://e.example/t\nprovider:\n  name: E\n{front}---\n"
    )
    (tmp_path / "seeds").mkdir()
    (tmp_path / "seeds" / "t.md").write_text(seed, encoding="utf-8")
    assert import_paths([str(tmp_path / "seeds")], max_bytes=LIMIT).invalid == 0
    user = make_user("maria")
    article = db.session.scalar(select(Article))
    moderation.set_heat(article.id, user, 42, article.version, 200)
    db.session.refresh(article)
    moderation.decide(article.id, user, APPROVED, article.version)
    export(tmp_path / "out", "dir", ExportFilters(), requested_by="test")
    exported = (tmp_path / "out" / "t.md").read_text(encoding="utf-8")
    values = front_values(exported)
    assert (values["heat"], values["published"]) == (42, True)
    assert yaml.safe_load(split_front_matter(exported)[0].removeprefix("\ufeff"))["heat"] == 42
