"""The Export page over HTTP: who may use it, the count, downloads, refusals and the list of runs."""

import hashlib
import io
import zipfile
from datetime import datetime

import pytest
import yaml
from sqlalchemy import select

from tests.factories import HX, REAL_SEED, SEEDS, csrf_token, soup
from webapp.models import APPROVED, Article, ExportRun, db
from webapp.services import moderation
from webapp.services.seed_import import import_paths


@pytest.fixture
def approved(app, make_user):
    import_paths([str(SEEDS)], max_bytes=2**21)
    article = db.session.scalar(select(Article))
    moderation.decide(article.id, make_user("ana"), APPROVED, article.version)
    db.session.expire_all()
    return article


def download(client, **data):
    """POST the Export form; the response is read whole and closed (a download holds its file open)."""
    response = client.post("/exports", data={"csrf_token": csrf_token(client, "/exports"), **data})
    response.get_data()
    response.close()
    return response


@pytest.mark.parametrize("role, expected", [(None, 302), ("moderator", 403), ("lead", 200), ("admin", 200)])
@pytest.mark.parametrize(
    "method, path", [("GET", "/exports"), ("GET", "/exports/count"), ("POST", "/exports")]
)
def test_export_routes_by_role(client, login, approved, role, expected, method, path):
    if role:
        login("someone", role)
    token = csrf_token(client, "/" if role else "/login")
    if method == "GET":
        response = client.get(path)
    else:
        response = client.post(path, data={"csrf_token": token, "format": "zip"})
        response.close()
    assert response.status_code == expected
    if role == "moderator":
        assert db.session.scalar(select(ExportRun)) is None


def test_only_leads_see_the_export_link(client, login, approved):
    login("maria", "moderator")
    assert soup(client.get("/")).find("a", string="Export") is None
    client.post("/logout", data={"csrf_token": csrf_token(client, "/")})
    login("lena", "lead")
    assert soup(client.get("/")).find("a", string="Export")["href"] == "/exports"


def test_page_counts_what_the_filters_choose(client, login, approved):
    login("lena", "lead")
    page = soup(client.get("/exports"))
    assert "1 approved article will be exported." in page.find(id="export-count").get_text(" ", strip=True)
    none = client.get("/exports/count?topic=Gardening", headers=HX)
    assert "0 approved articles will be exported." in soup(none).get_text(" ", strip=True)
    assert none.headers["HX-Replace-Url"] == "/exports?topic=Gardening"
    some = client.get("/exports/count?topic=AI&provider=Business+Matters", headers=HX)
    assert "1 approved article will be exported." in soup(some).get_text(" ", strip=True)


def test_bad_dates_are_named_next_to_the_form_and_nothing_is_exported(client, login, approved):
    login("lena", "lead")
    response = download(client, format="zip", approved_from="2026-13-40")
    assert response.status_code == 422
    assert (
        soup(response).find(id="error-approved_from").text
        == "Approved from: '2026-13-40' is not a date like 2023-10-19."
    )
    reversed_range = download(client, format="zip", approved_from="2026-02-01", approved_to="2026-01-01")
    assert reversed_range.status_code == 422
    assert (
        soup(reversed_range).find(id="error-approved_to").text
        == "Approved to: must be on or after Approved from."
    )
    bad_format = download(client, format="tar")
    assert bad_format.status_code == 422 and "choose zip or yaml, not 'tar'" in soup(bad_format).get_text()
    assert db.session.scalar(select(ExportRun)) is None


def test_download_zip_is_recorded_with_its_checksum_and_listed(client, login, approved):
    login("lena", "lead")
    response = download(client, format="zip")
    assert response.status_code == 200 and response.mimetype == "application/zip"
    data = response.get_data()
    run = db.session.scalar(select(ExportRun))
    assert response.headers["Content-Disposition"] == f"attachment; filename=copydesk-export-{run.id}.zip"
    assert (run.status, run.count, run.format, run.requested_by) == ("complete", 1, "zip", "lena")
    assert run.sha256 == hashlib.sha256(data).hexdigest() == response.headers["X-Copydesk-Export-Sha256"]
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        assert archive.namelist() == [REAL_SEED.name]
    row = soup(client.get("/exports")).find("table", class_="runs").find("tbody").find("tr")
    cells = [cell.get_text(" ", strip=True) for cell in row.find_all("td")]
    assert (
        cells[0] == str(run.id)
        and cells[2:4] == ["lena", "zip"]
        and cells[5:8] == ["1", "complete", run.sha256]
    )


def test_a_run_is_listed_with_a_machine_readable_start_time(client, login, approved):
    login("lena", "lead")
    download(client, format="zip")
    run = db.session.scalar(select(ExportRun))
    started = soup(client.get("/exports")).find("table", class_="runs").find("time")
    assert started["datetime"] == run.started_at.isoformat(timespec="seconds")
    assert datetime.fromisoformat(started["datetime"]) == run.started_at.replace(microsecond=0)
    assert started["datetime"].endswith("+00:00") and started["title"].endswith(" UTC")


def test_download_yaml_stream_with_filters(client, login, approved):
    login("lena", "lead")
    day = approved.decided_at.date().isoformat()
    response = download(client, format="yaml", approved_from=day, approved_to=day, topic="AI")
    [document] = yaml.safe_load_all(response.get_data())
    assert document["copydesk"]["approvedBy"] == "ana" and document["published"] is True
    run = db.session.scalar(select(ExportRun))
    assert run.filters["topic"] == "AI" and run.feed is False
