"""Uploads on the Imports page over HTTP: a job imports them, its run lists the refusals; limits and CSRF."""

import io

from sqlalchemy import func, select

from tests.factories import csrf_token, seed_bytes, soup, zipped
from webapp.models import Article, ImportRun, Job, db


def upload(client, files: list[tuple[str, bytes]], token: str | None = None):
    data = {"files": [(io.BytesIO(content), name) for name, content in files]}
    if token is not False:
        data["csrf_token"] = token or csrf_token(client, "/imports")
    return client.post("/imports/upload", data=data, content_type="multipart/form-data")


def test_a_lead_uploads_a_zip_and_files_and_the_run_shows_what_was_refused(client, login):
    login("lena", "lead")
    archive = zipped({f"s{n}.md": seed_bytes(f"s{n}") for n in range(3)} | {"../up.md": b"x", "x.exe": b"MZ"})
    response = upload(
        client, [("bundle.zip", archive), ("one.md", seed_bytes("one")), ("<b>bad</b>.pdf", b"%")]
    )
    job = db.session.scalar(select(Job))
    assert response.status_code == 303 and response.location == f"/jobs/{job.id}"
    page = soup(client.get(response.location))
    assert page.find(class_="job-status").get_text(strip=True) == "Done"
    assert page.find(class_="job-count").get_text(strip=True) == "4 / 4"
    run_link = page.find("a", href=f"/imports/{job.import_run_id}")
    run = db.session.get(ImportRun, job.import_run_id)
    assert (run.kind, run.started_by, run.imported, run.invalid) == ("upload", "lena", 4, 3)
    assert db.session.scalar(select(func.count()).select_from(Article)) == 4
    refusals = soup(client.get(run_link["href"])).find(id="import-refusals").find_all("tr")
    names = [row.find("code").get_text() for row in refusals]
    assert names == ["bundle.zip/../up.md", "bundle.zip/x.exe", "<b>bad</b>.pdf"]
    assert all(row.find("a") is None for row in refusals)  # a name is text, never a link
    assert soup(client.get("/imports")).find("tr", id=f"job-row-{job.id}")


def test_an_upload_without_files_is_refused_with_a_message(client, login):
    login("lena", "lead")
    response = upload(client, [])
    assert response.status_code == 422
    assert (
        soup(response).find(id="error-files").get_text()
        == "Choose one or more .md, .txt or .zip files to upload."
    )
    assert db.session.scalar(select(Job)) is None


def test_an_upload_over_the_size_limit_is_refused_before_it_is_read(app, client, login):
    login("lena", "lead")
    token = csrf_token(client, "/imports")
    app.config["MAX_CONTENT_LENGTH"] = 2_000
    response = upload(client, [("big.md", b"x" * 5_000)], token=token)
    assert response.status_code == 413
    assert "MAX_UPLOAD_BYTES" in soup(response).get_text()
    assert db.session.scalar(select(Job)) is None


def test_an_upload_without_the_csrf_token_is_refused(client, login):
    login("lena", "lead")
    response = upload(client, [("one.md", seed_bytes("one"))], token=False)
    assert response.status_code == 400
    assert db.session.scalar(select(Job)) is None
