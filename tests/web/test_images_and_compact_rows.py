"""Seeing what is judged: thumbnails of the article's and related entries' images (https only, SHOW_IMAGES),
the secured payload under Details, and the compact row mode remembered per user."""

import json

import pytest
from sqlalchemy import select

from tests.factories import HX, REAL_SEED, csrf_token, make_app, post, soup
from webapp.config import ConfigError, from_environment
from webapp.models import Article, User, db
from webapp.services.seed_import import import_paths

OWN_IMAGE = "https://images.example.net/own.jpg"


def seed_with_image(tmp_path, url=OWN_IMAGE, name="with_image.md"):
    text = REAL_SEED.read_text(encoding="utf-8").replace(
        "published: false\n",
        f'published: false\nimages:\n  - url: "{url}"\n    width: 1200\n    height: 675\n',
    )
    (tmp_path / name).write_text(text, encoding="utf-8")
    assert import_paths([str(tmp_path / name)], max_bytes=2**21).imported == 1
    return db.session.scalar(select(Article).where(Article.source_name == name))


def test_the_content_security_policy_allows_https_images_only(client):
    policy = client.get("/login").headers["Content-Security-Policy"]
    assert "img-src 'self' https:;" in policy + ";"
    assert "data:" not in policy and "http:" not in policy


def test_import_keeps_the_first_image_url_for_the_queue(app, tmp_path):
    article = seed_with_image(tmp_path)
    assert article.image_url == OWN_IMAGE and article.images[0]["url"] == OWN_IMAGE


def test_row_and_panel_show_lazy_thumbnails_without_referrer(client, login, tmp_path):
    article = seed_with_image(tmp_path)
    login()
    row = soup(client.get("/", headers=HX)).find(id=f"article-{article.id}")
    [thumb] = row.select("img.thumb")
    assert thumb["src"] == OWN_IMAGE and thumb["alt"] == ""  # beside the title it says nothing more
    panel = soup(client.get(f"/articles/{article.id}"))
    image = panel.select_one("#panel img.panel-image")
    assert image["src"] == OWN_IMAGE and image["alt"] == "Image of the article"
    related = panel.select("ol.related img.thumb")
    assert len(related) == 4 and all(img["alt"] == "Image of this entry" for img in related)
    for img in [thumb, image, *related]:
        assert img["loading"] == "lazy" and img["referrerpolicy"] == "no-referrer"
        assert img["width"] and img["height"] and img["src"].startswith("https://")


def test_show_images_off_makes_no_third_party_image_at_all(app, client, login, tmp_path):
    article = seed_with_image(tmp_path)
    login()
    client.get("/")  # the row's markup with its thumbnail is now cached
    app.config["SHOW_IMAGES"] = False
    for url in (
        "/",
        f"/articles/{article.id}",
        f"/articles/{article.id}/row",
        f"/articles/{article.id}/related",
    ):
        assert soup(client.get(url, headers=HX)).find("img") is None, url
    assert soup(client.get(f"/articles/{article.id}")).find("img") is None


def test_only_https_images_are_shown(client, login, tmp_path):
    article = seed_with_image(tmp_path, url="http://images.example.net/plain.jpg")
    login()
    assert article.image_url == "http://images.example.net/plain.jpg"
    assert not soup(client.get("/")).select(f"#article-{article.id} img")
    assert not soup(client.get(f"/articles/{article.id}")).select("#panel img.panel-image")


def test_the_secured_payload_is_under_details(client, login, article):
    login()
    panel = soup(client.get(f"/articles/{article.id}"))
    first_facts = panel.select_one("#panel > dl.facts")
    assert "Secured" not in first_facts.get_text()
    details = panel.select_one("#panel details.more-facts")
    assert details.summary.get_text() == "Details" and not details.has_attr("open")
    assert f"encrypted payload, {len(article.secured)} characters" in details.get_text()


def test_compact_rows_without_javascript_are_remembered_for_that_user_only(client, login, article):
    login("maria")
    page = soup(client.get("/"))
    assert page.select_one("table.queue")["class"] == ["queue"]
    toggle = page.select_one("form#row-density")
    assert toggle.select_one("input[name=compact]")["value"] == "1"
    assert toggle.button["aria-pressed"] == "false"
    response = post(client, "/queue/compact", compact="1", next="/?status=all")
    assert response.status_code == 303 and response.location == "/?status=all"
    page = soup(client.get("/?status=all"))
    assert page.select_one("table.queue")["class"] == ["queue", "compact"]
    assert page.select_one("form#row-density button")["aria-pressed"] == "true"
    assert page.select_one("form#row-density input[name=compact]")["value"] == "0"
    # The rows are the same markup either way: only the table's class differs.
    assert page.select_one(f"#article-{article.id}") is not None
    assert db.session.scalar(select(User.compact_rows).where(User.username == "maria")) is True

    client.post("/logout", data={"csrf_token": csrf_token(client, "/")})
    login("lee", "lead")
    assert soup(client.get("/")).select_one("table.queue")["class"] == ["queue"]


def test_compact_rows_with_htmx_answer_the_toggle_and_an_event(client, login, article):
    login()
    response = post(client, "/queue/compact", headers=HX, compact="1", next="/")
    assert response.status_code == 200 and "HX-Request" in response.vary
    assert json.loads(response.headers["HX-Trigger"]) == {"rows-density": {"compact": True}}
    form = soup(response).find("form")
    assert form["id"] == "row-density" and form.button["aria-pressed"] == "true"
    back = post(client, "/queue/compact", headers=HX, compact="0", next="/")
    assert json.loads(back.headers["HX-Trigger"]) == {"rows-density": {"compact": False}}
    assert soup(client.get("/")).select_one("table.queue")["class"] == ["queue"]


@pytest.mark.parametrize("value", ["", "2", "yes", "<b>1</b>"])
def test_a_bad_compact_value_is_named(client, login, value):
    login()
    response = post(client, "/queue/compact", headers=HX, compact=value, next="/")
    assert response.status_code == 422
    assert soup(response).find(role="alert").get_text() == (
        "Choose compact rows (compact=1) or full rows (compact=0)."
    )
    plain = post(client, "/queue/compact", compact=value, next="/")
    assert plain.status_code == 303
    assert "Choose compact rows" in client.get("/").get_data(as_text=True)


@pytest.mark.parametrize("role, expected", [(None, 302), ("moderator", 303), ("lead", 303), ("admin", 303)])
def test_compact_rows_by_role(client, login, role, expected):
    if role:
        login("someone", role)
    token = csrf_token(client, "/" if role else "/login")
    response = client.post("/queue/compact", data={"csrf_token": token, "compact": "1"})
    assert response.status_code == expected
    if role is None:
        assert response.location.startswith("/login")


def test_compact_rows_need_the_csrf_token(client, login):
    login()
    assert client.post("/queue/compact", data={"compact": "1"}).status_code == 400
    assert db.session.scalar(select(User.compact_rows)) is False


def test_upgrading_copies_each_articles_first_image_url(tmp_path):
    """0010 fills the new column from what 0009 databases already store."""
    from flask_migrate import upgrade
    from sqlalchemy import text

    app = make_app(f"sqlite:///{tmp_path / 'old.db'}")
    with app.app_context():
        upgrade(revision="0009")
        with db.engine.begin() as connection:
            for identity, images in (
                ("a", json.dumps([{"url": OWN_IMAGE, "width": 1}, {"url": "https://second.example/x.jpg"}])),
                ("b", None),
                ("c", "[]"),
            ):
                connection.execute(
                    text(
                        "INSERT INTO articles (identity, source_name, content_hash, source_text, "
                        "category, title, published_at, web_url, heat, provider_name, key_order, body, "
                        "status, version, imported_at, updated_at, images) VALUES (:identity, 'a.md', "
                        "'h', 't', 'news', 'T', '2024-01-01 00:00:00', 'https://e.com', -1, 'P', '[]', "
                        "'', 'pending', 1, '2024-01-01 00:00:00', '2024-01-01 00:00:00', :images)"
                    ),
                    {"identity": identity, "images": images},
                )
            connection.execute(
                text(
                    "INSERT INTO users (username, password_hash, role, active, created_at, session_token) "
                    "VALUES ('maria', 'x', 'moderator', 1, '2024-01-01 00:00:00', 't')"
                )
            )
        upgrade()
        with db.engine.connect() as connection:
            urls = dict(connection.execute(text("SELECT identity, image_url FROM articles")).all())
            assert urls == {"a": OWN_IMAGE, "b": None, "c": None}
            assert connection.execute(text("SELECT compact_rows FROM users")).scalar() in (0, False)
        db.engine.dispose()


@pytest.mark.parametrize(
    "raw, expected", [("", True), ("1", True), ("on", True), ("0", False), ("false", False), (" No ", False)]
)
def test_show_images_reads_yes_or_no(monkeypatch, tmp_path, raw, expected):
    monkeypatch.setenv("SHOW_IMAGES", raw)
    assert from_environment(str(tmp_path), overrides={})["SHOW_IMAGES"] is expected


def test_a_bad_show_images_is_named(monkeypatch, tmp_path):
    monkeypatch.setenv("SHOW_IMAGES", "sometimes")
    with pytest.raises(ConfigError, match="SHOW_IMAGES must be 1 or 0"):
        from_environment(str(tmp_path), overrides={})
