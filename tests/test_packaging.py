"""The wheel carries the templates, the static files (htmx and its licence) and the migrations, and the
app finds the templates and static files inside the package once installed."""

from hatchling.builders.wheel import WheelBuilder

import webapp
from tests.factories import ROOT
from webapp import create_app

SHIPPED = {
    "templates": "webapp/templates",
    "static": "webapp/static",
    "webapp/migrations": "webapp/migrations",
}


def wheel_files() -> set[str]:
    """The paths the wheel holds, as the build backend selects them (without writing the archive)."""
    return {included.distribution_path for included in WheelBuilder(str(ROOT)).recurse_included_files()}


def test_the_wheel_carries_every_template_static_file_and_migration():
    files = wheel_files()
    expected = {
        f"{inside}/{path.relative_to(ROOT / folder).as_posix()}"
        for folder, inside in SHIPPED.items()
        for path in (ROOT / folder).rglob("*")
        if path.is_file() and "__pycache__" not in path.parts
    }
    assert {"webapp/static/vendor/htmx/htmx.min.js", "webapp/static/vendor/htmx/LICENSE"} <= expected
    assert "webapp/templates/auth/login.html" in expected
    assert sorted(expected - files) == []
    assert sorted(path for path in files if not path.startswith("webapp/")) == []


def test_installed_the_app_takes_templates_and_static_files_from_the_package(monkeypatch, tmp_path):
    for folder in ("templates", "static"):
        (tmp_path / folder).mkdir()
    monkeypatch.setattr(webapp, "PACKAGE", tmp_path)
    app = create_app({"SECRET_KEY": "x", "SQLALCHEMY_DATABASE_URI": "sqlite://"})
    assert (app.template_folder, app.static_folder) == (str(tmp_path / "templates"), str(tmp_path / "static"))


def test_from_the_checkout_the_app_takes_them_from_the_top():
    app = create_app({"SECRET_KEY": "x", "SQLALCHEMY_DATABASE_URI": "sqlite://"})
    assert (app.template_folder, app.static_folder) == (str(ROOT / "templates"), str(ROOT / "static"))
