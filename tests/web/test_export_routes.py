"""The Export page over HTTP: who may use it, the count, export jobs and their files, refusals and the
list of runs. Jobs run inside the request here (JOBS_IMMEDIATE); tests/services/test_job_queue.py
runs them on a real worker."""

import hashlib
import io
import zipfile
from datetime import datetime
from pathlib import Path

import pytest
import yaml
from sqlalchemy import select

from tests.factories import HX, REAL_SEED, SEEDS, csrf_token, soup
from webapp.models import APPROVED, Article, ExportRun, Job, db
from webapp.services import jobs, moderation
from webapp.services.seed_import import import_paths


@pytest.fixture
def approved(app, make_user):
    import_paths([str(SEEDS)], max_bytes=2**21)
    article = db.session.scalar(select(Article))
    moderation.decide(article.id, make_user("ana"), APPROVED, article.version)
    db.session.expire_all()
    return article


def start(client, **data):
    """POST the Export form: the job's page follows (303), or the form with its messages (422)."""
    return client.post("/exports", data={"csrf_token": csrf_token(client, "/exports"), **data})


def download(client, **data):
    """Start an export, then download its file from the job's page; read whole and closed."""
    started = start(client, **data)
    if started.status_code != 303:
        return started
    page = soup(client.get(started.location))
    response = client.get(page.find("a", string=lambda text: text and text.startswith("Download"))["href"])
    response.get_data()
    response.close()
    return response


@pytest.mark.parametrize("role, allowed", [(None, 302), ("moderator", 403), ("lead", 200), ("admin", 200)])
@pytest.mark.parametrize(
    "method, path", [("GET", "/exports"), ("GET", "/exports/count"), ("POST", "/exports")]
)
def test_export_routes_by_role(client, login, approved, role, allowed, method, path):
    if role:
        login("someone", role)
    token = csrf_token(client, "/" if role else "/login")
    if method == "GET":
        response = client.get(path)
    else:
        response = client.post(path, data={"csrf_token": token, "format": "zip"})
    expected = 303 if method == "POST" and allowed == 200 else allowed
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
    assert db.session.scalar(select(ExportRun)) is None and db.session.scalar(select(Job)) is None


def test_an_export_starts_a_job_whose_page_shows_it_done_with_its_file(client, login, approved):
    login("lena", "lead")
    started = start(client, format="zip")
    job = db.session.scalar(select(Job))
    assert started.status_code == 303 and started.location == f"/jobs/{job.id}"
    page = soup(client.get(started.location))
    progress = page.find("section", id=f"job-{job.id}")
    assert progress.find("progress")["value"] == "1" and progress.find("progress")["max"] == "1"
    assert progress.find(class_="job-count").get_text(strip=True) == "1 / 1"
    assert not progress.has_attr("hx-trigger")  # done: the fragment stops asking
    assert progress.find("a", href=f"/jobs/{job.id}/download")
    listed = soup(client.get("/exports")).find("tr", id=f"job-row-{job.id}")
    assert listed.find("a")["href"] == f"/jobs/{job.id}" and "done" in listed.get_text()


def test_a_running_job_is_polled_and_can_be_cancelled(client, login, approved):
    user = login("lena", "lead")
    job_id = jobs.create("export", {"format": "zip", "filters": {}}, requested_by=user.username).id
    jobs.claim(job_id)
    jobs.progress(job_id, 3, 12)
    fragment = soup(client.get(f"/jobs/{job_id}", headers=HX))
    section = fragment.find("section", id=f"job-{job_id}")
    assert fragment.find("html") is None
    assert (section["hx-get"], section["hx-trigger"]) == (f"/jobs/{job_id}", "every 1s")
    assert section.find(class_="job-count").get_text(strip=True) == "3 / 12"
    form = section.find("form")
    assert form["action"] == f"/jobs/{job_id}/cancel" and form.find("input", attrs={"name": "csrf_token"})
    refused = client.post(f"/jobs/{job_id}/cancel", headers=HX)
    assert refused.status_code == 400 and jobs.get(job_id).cancel_requested is False
    token = csrf_token(client, f"/jobs/{job_id}")
    cancelled = client.post(f"/jobs/{job_id}/cancel", data={"csrf_token": token})
    assert cancelled.status_code == 303 and cancelled.location == f"/jobs/{job_id}"
    assert jobs.get(job_id).cancel_requested is True


def test_an_expired_or_missing_file_is_a_clear_404(client, login, approved):
    login("lena", "lead")
    start(client, format="zip")
    job = db.session.scalar(select(Job))
    Path(job.result_path).unlink()
    response = client.get(f"/jobs/{job.id}/download")
    assert response.status_code == 404 and "EXPORT_KEEP_DAYS" in soup(response).get_text()
    assert client.get("/jobs/999999").status_code == 404


def test_download_zip_is_recorded_with_its_checksum_and_listed(client, login, approved):
    login("lena", "lead")
    response = download(client, format="zip")
    assert response.status_code == 200 and response.mimetype == "application/zip"
    data = response.get_data()
    run = db.session.scalar(select(ExportRun))
    assert response.headers["Content-Disposition"] == f"attachment; filename=copydesk-export-{run.id}.zip"
    assert (run.status, run.count, run.format, run.requested_by) == ("complete", 1, "zip", "lena")
    assert run.sha256 == hashlib.sha256(data).hexdigest()
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        assert archive.namelist() == [REAL_SEED.name]
    row = (
        soup(client.get("/exports"))
        .find("section", attrs={"aria-labelledby": "runs-heading"})
        .find("table")
        .find("tbody")
        .find("tr")
    )
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
    started = (
        soup(client.get("/exports"))
        .find("section", attrs={"aria-labelledby": "runs-heading"})
        .find("table")
        .find("time")
    )
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
