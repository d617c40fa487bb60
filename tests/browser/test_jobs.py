"""Background jobs in the browser, against gunicorn and a real `jobs worker` beside it: a lead uploads a zip
of generated seeds with bad files among them and watches it import, then sees the run's refusals; a lead
exports the approved articles, reloads the page mid-way and downloads the finished zip.

The export is of 20,000 approved articles, as the issue asks: the database is built by the export
benchmark's own builder (500 generated seeds imported, copied in SQL up to 20,000, all approved).
"""

import os
import re
import stat
import zipfile
from pathlib import Path

import pytest

from bench.export import prepare_database
from bench.generate import write_corpus
from tests.factories import PASSWORD, expect

APPROVED = 20_000
UPLOADED = 200
DONE_SECONDS = 240


@pytest.fixture(scope="module")
def jobs_server(tmp_path_factory, serve, cli_with):
    """gunicorn and `jobs worker` on a database of APPROVED approved articles; the base URL."""
    folder = tmp_path_factory.mktemp("jobs-server")
    database = folder / "copydesk.db"
    prepare_database(str(database), str(APPROVED), "500", "1")
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{database}",
        "SECRET_KEY": "browser-tests-secret",
        "COPYDESK_ENV": "development",
        "JOBS_FOLDER": str(folder / "jobs"),
    }
    cli_with(env, "users", "create", "lee", "--role", "lead", "--password-stdin", stdin=PASSWORD + "\n")
    return serve(env, folder, worker=True)


@pytest.fixture
def lead(logged_in_on, jobs_server):
    return logged_in_on(jobs_server, "lee")


def upload_zip(folder: Path) -> Path:
    """UPLOADED generated seeds in a zip, with three files it must refuse: a PDF, a name leaving the folder
    and a symbolic link."""
    seeds = folder / "generated"
    write_corpus(UPLOADED, 7, seeds)
    archive = folder / "seeds.zip"
    with zipfile.ZipFile(archive, "w", compression=zipfile.ZIP_DEFLATED) as out:
        for path in sorted([*seeds.glob("*.md"), *seeds.glob("*.txt")]):
            out.write(path, f"batch/{path.name}")
        out.writestr("batch/notes.pdf", b"%PDF-1.4")
        out.writestr("../../escape.md", b"---\ntitle: out\n---\n")
        link = zipfile.ZipInfo("batch/link.md")
        link.external_attr = (stat.S_IFLNK | 0o777) << 16
        out.writestr(link, "/etc/passwd")
    return archive


def test_a_lead_uploads_a_zip_and_watches_it_import_then_sees_its_refusals(lead, tmp_path):
    archive = upload_zip(tmp_path)
    lead.goto("/imports")
    polls = []
    lead.on("request", lambda request: request.headers.get("hx-request") and polls.append(request.url))
    lead.get_by_label("Seed files").set_input_files(str(archive))
    lead.get_by_role("button", name="Upload and import").click()
    lead.wait_for_url("**/jobs/*")
    job = lead.locator("section.job")
    expect(job.locator(".job-status strong")).to_have_text("Done", timeout=DONE_SECONDS * 1000)
    bar = job.locator("progress")
    assert bar.get_attribute("value") == bar.get_attribute("max") == str(UPLOADED)
    expect(job.locator(".job-count")).to_have_text(f"{UPLOADED} / {UPLOADED}")
    assert any("/jobs/" in url for url in polls), "the progress fragment was never asked for"
    expect(job.get_by_role("button", name="Cancel")).to_have_count(0)

    job.get_by_role("link", name="Import run").click()
    expect(lead.get_by_role("heading", level=1)).to_contain_text("Import run")
    facts = lead.locator("dl.facts")
    expect(facts).to_contain_text(f"{UPLOADED} imported")
    expect(facts).to_contain_text("3 invalid")
    refused = lead.locator("#import-refusals tr")
    expect(refused).to_have_count(3)
    names = sorted(refused.locator("code.file-name").all_inner_texts())
    assert names == ["seeds.zip/../../escape.md", "seeds.zip/batch/link.md", "seeds.zip/batch/notes.pdf"]
    expect(lead.locator("#import-refusals a")).to_have_count(0)


def test_a_lead_exports_reloads_midway_and_downloads_the_finished_zip(lead, tmp_path):
    lead.goto("/exports")
    expect(lead.locator("#export-count")).to_contain_text(f"{APPROVED:,} approved articles")
    lead.get_by_role("button", name="Export as zip").click()
    lead.wait_for_url("**/jobs/*")
    job = lead.locator("section.job")
    expect(job.locator(".job-status strong")).to_have_text("Running", timeout=60_000)
    # Counted past zero of a known total: before the worker has counted the articles it shows "0 / ?".
    expect(job.locator(".job-count")).to_have_text(
        re.compile(rf"^[1-9][\d,]* / {APPROVED:,}$"), timeout=60_000
    )
    midway = int(job.locator("progress").get_attribute("value"))
    assert 0 < midway < APPROVED, "the export was over before the page could reload mid-way"
    expect(job.locator(".job-left")).to_contain_text("left")

    lead.reload()
    job = lead.locator("section.job")
    assert int(job.locator("progress").get_attribute("value")) >= midway
    expect(job.locator(".job-status strong")).to_have_text("Done", timeout=DONE_SECONDS * 1000)
    expect(job.locator(".job-count")).to_have_text(f"{APPROVED:,} / {APPROVED:,}")
    with lead.expect_download() as download:
        job.get_by_role("link", name="Download the zip file").click()
    saved = tmp_path / download.value.suggested_filename
    download.value.save_as(saved)
    assert saved.name.startswith("copydesk-export-") and saved.suffix == ".zip"
    with zipfile.ZipFile(saved) as exported:
        assert len(exported.namelist()) == APPROVED
        assert exported.testzip() is None
