"""The Imports page over HTTP: who may see it, the runs newest first a page at a time, and a run's refused
files, whose hostile names are shown as text and link to nothing."""

import pytest

from tests.factories import HX, csrf_token, soup
from webapp.models import ImportRun
from webapp.services import import_runs
from webapp.services.import_runs import record_import
from webapp.services.seed_import import ImportReport, find_seed_files

HOSTILE_NAMES = [
    "<img src=x onerror=alert(1)>.md",
    "javascript:alert(1).md",
    '"><svg onload=alert(2)>.md',
    "invoice\u202egpj.md",  # reads "invoicedm.jpg" if its override is obeyed
    "tab\there.md",
]


def record(folder) -> ImportRun:
    """Import `folder` as the command line does, recorded as a run."""
    report = ImportReport()
    return record_import(
        find_seed_files([str(folder)], report),
        report,
        kind="command",
        source=str(folder),
        started_by="command line",
        max_bytes=2**21,
    )


@pytest.fixture
def hostile_run(app, tmp_path):
    """A run that refused a file under each hostile name."""
    for name in HOSTILE_NAMES:
        (tmp_path / name).write_text("no front matter\n", encoding="utf-8")
    return record(tmp_path)


@pytest.mark.parametrize("role, expected", [(None, 302), ("moderator", 403), ("lead", 200), ("admin", 200)])
@pytest.mark.parametrize(
    "path", ["/imports", "/imports/{run}", "/imports?before=5", "/imports/{run}?after=0"]
)
def test_import_routes_by_role(client, login, hostile_run, role, expected, path):
    if role:
        login("someone", role)
    response = client.get(path.format(run=hostile_run.id))
    assert response.status_code == expected
    if expected == 302:
        assert response.headers["Location"].startswith("/login")


def test_only_leads_and_admins_see_the_imports_link(client, login):
    login("maria", "moderator")
    assert soup(client.get("/")).find("a", string="Imports") is None
    client.post("/logout", data={"csrf_token": csrf_token(client, "/")})
    login("lena", "lead")
    assert soup(client.get("/")).find("a", string="Imports")["href"] == "/imports"


def test_the_list_shows_each_run_newest_first_with_its_counts(client, login, hostile_run, tmp_path):
    empty = record(tmp_path / "nothing-here")
    login("lena", "lead")
    page = soup(client.get("/imports"))
    rows = page.select("#import-runs tr")
    assert [row["id"] for row in rows] == [f"import-run-{empty.id}", f"import-run-{hostile_run.id}"]
    cells = [cell.get_text(" ", strip=True) for cell in rows[1].find_all("td")]
    assert cells[0] == f"Run {hostile_run.id}"
    assert cells[2:] == ["command line", str(hostile_run.source), "0", "0", "0", "0", "5", "complete"]
    assert rows[1].find("a")["href"] == f"/imports/{hostile_run.id}"


def test_runs_come_a_page_at_a_time_and_htmx_gets_the_rows_alone(client, login, monkeypatch, tmp_path):
    monkeypatch.setattr(import_runs, "RUNS_PAGE", 2)
    ids = [record(tmp_path / f"none-{n}").id for n in range(3)]
    login("lena", "lead")
    first = soup(client.get("/imports"))
    assert [row.get("id") for row in first.select("#import-runs tr")] == [
        f"import-run-{ids[2]}",
        f"import-run-{ids[1]}",
        "import-runs-more",
    ]
    more = first.find(id="import-runs-more")
    assert more.find("a")["href"] == more["hx-get"] == f"/imports?before={ids[1]}"
    response = client.get(more["hx-get"], headers=HX)
    assert "Vary" in response.headers and "HX-Request" in response.headers["Vary"]
    rest = soup(response)
    assert rest.find("table") is None and rest.find("h1") is None
    assert [row.get("id") for row in rest.find_all("tr")] == [f"import-run-{ids[0]}"]


def test_a_run_shows_its_refused_files_as_text_that_links_nowhere(client, login, hostile_run, tmp_path):
    login("lena", "lead")
    response = client.get(f"/imports/{hostile_run.id}")
    assert response.status_code == 200
    body = response.get_data(as_text=True)
    page = soup(response)
    table = page.find(id="import-refusals")
    assert table.find_all(["a", "img", "script", "iframe", "object", "embed", "form"]) == []
    assert "<svg onload" not in body and "<img src=x" not in body
    files = [code.get_text() for code in table.select("code.file-name")]
    shown = {
        "invoice\u202egpj.md": "invoice\\u202egpj.md",  # the override spelled out, not obeyed
        "tab\there.md": "tab\\u0009here.md",
    }
    assert sorted(files) == sorted(str(tmp_path / shown.get(name, name)) for name in HOSTILE_NAMES)
    messages = {row.find_all("td")[3].get_text() for row in table.find_all("tr")}
    assert messages == {"line 1: no front matter: a seed starts with a line '---'"}
    assert {row.find_all("td")[1].get_text() for row in table.find_all("tr")} == {"invalid"}
    facts = page.find("dl", class_="facts").get_text(" ", strip=True)
    assert "0 imported, 0 updated, 0 unchanged, 0 conflicts, 5 invalid" in facts
    assert "command line (command on" in facts


def test_a_run_refusals_come_a_page_at_a_time(client, login, hostile_run, monkeypatch):
    monkeypatch.setattr(import_runs, "REFUSALS_PAGE", 3)
    login("lena", "lead")
    page = soup(client.get(f"/imports/{hostile_run.id}"))
    assert [row.get("id") for row in page.select("#import-refusals tr")] == [
        "refusal-0",
        "refusal-1",
        "refusal-2",
        "import-refusals-more",
    ]
    more = page.find(id="import-refusals-more")["hx-get"]
    assert more == f"/imports/{hostile_run.id}?after=2"
    rest = soup(client.get(more, headers=HX))
    assert [row.get("id") for row in rest.find_all("tr")] == ["refusal-3", "refusal-4"]


def test_a_run_with_nothing_refused_says_so(client, login, tmp_path):
    (tmp_path / "empty").mkdir()
    run = record(tmp_path / "empty")
    login("lena", "lead")
    page = soup(client.get(f"/imports/{run.id}"))
    assert page.find(id="import-refusals").get_text(" ", strip=True) == (
        "None: every file was imported, updated or unchanged."
    )


def test_an_unknown_run_is_a_404_and_a_broken_page_link_a_400(client, login, hostile_run):
    login("lena", "lead")
    assert client.get(f"/imports/{hostile_run.id + 1}").status_code == 404
    broken = ["/imports?before=x", "/imports?before=²", "/imports?before=" + "9" * 12]
    for path in [*broken, f"/imports/{hostile_run.id}?after=-1"]:
        response = client.get(path)
        assert response.status_code == 400, path
        assert "That page link is broken" in response.get_data(as_text=True)
