"""Every route of the URL map, walked with every parameter set to each hostile value: never a 500.

The table `PARAMETERS` names what each view reads; the walk records every name a view actually
read from the query or the form (`_Recording`) and fails on one the table does not list,
and `test_every_route_is_in_the_table` fails on a route it does not list.
"""

import html
from dataclasses import dataclass, field
from urllib.parse import quote

import pytest
from sqlalchemy import select
from werkzeug.datastructures import ImmutableMultiDict

from tests.factories import PASSWORD, REAL_SEED, csrf_token, fresh, write_seed
from webapp.models import Article, AuditEvent, db
from webapp.services import import_runs, jobs, moderation
from webapp.services.seed_import import ImportReport, import_paths

HOSTILE = (
    "²",
    "٣",
    "9" * 5000,
    str(2**31),
    str(2**63),
    "-1",
    str(-(2**31) - 1),
    "0001-01-01T00:00:00+14:00",
    "9999-12-31T23:59:59-14:00",
    "9999-12-31",
    "0001-01-01",
    "2023-10-19T13:22:00",
    "",
    "x" * 10240,
    "1' OR '1'='1",
    "<script>alert(1)</script>",
    "\x00",
)
INJECTED = "<script>alert(1)</script>"


@dataclass(frozen=True)
class Param:
    """A parameter to walk: the shapes its hostile value is put in, and what else the request sends."""

    shapes: tuple[str, ...] = ("%s",)
    bases: tuple[dict, ...] = ({},)


@dataclass(frozen=True)
class Route:
    query: dict[str, Param] = field(default_factory=dict)
    form: dict[str, Param] = field(default_factory=dict)


CURSOR = Param(shapes=("%s", "%s~1", "1~%s"), bases=({}, {"sort": "heat"}, {"sort": "quality"}))
FILTERS = {
    n: Param() for n in ("status", "sort", "q", "topic", "provider", "category", "stale", "duplicates")
}
FILTERS |= {"published_from": Param(), "published_to": Param()}
QUEUE = FILTERS | {"after": CURSOR}
CUSTOM = Param(bases=({}, {"period": "custom", "from": "2023-01-01", "to": "2023-01-31"}))
STATS = {"period": Param(), "moderator": Param(), "topic": Param(), "provider": Param()}
STATS |= {"from": CUSTOM, "to": CUSTOM}
EXPORTS = {n: Param() for n in ("approved_from", "approved_to", "topic", "provider", "category")}
# `filters` is the queue's filter form as a query string: the answer's counts are the view's.
# `panel` is the article the page's panel shows: an answer then carries that panel along.
ACTION = {"version": Param(), "answer": Param(), "next": Param(), "filters": Param(), "panel": Param()}
DECISION = ACTION | {"open_next": Param()}
PARAMETERS: dict[str, Route] = {
    "auth.login": Route(query={"next": Param()}, form={"username": Param(), "password": Param()}),
    "auth.logout": Route(),
    "queue.index": Route(query=QUEUE),
    "queue.changes": Route(query={"since": Param(), "after": Param(), "upto": Param(), "filters": Param()}),
    "queue.recent": Route(),
    "queue.bulk": Route(
        form={
            "verdict": Param(),
            "article": Param(shapes=("%s", "%s:1", "1:%s")),
            "reason": Param(bases=({"verdict": "reject"},)),
            "next": Param(),
        }
    ),
    "queue.compact": Route(form={"compact": Param(), "next": Param()}),
    # The article's page is the queue with the article open: its filters come from the query too.
    "articles.show": Route(query=FILTERS),
    "articles.row": Route(),
    "articles.history": Route(),
    "articles.related": Route(query=FILTERS | {"groups_after": Param(), "entries_after": Param()}),
    "articles.claim": Route(),
    "articles.approve": Route(form=DECISION),
    "articles.reject": Route(form=DECISION | {"reason": Param(), "listed_reason": Param()}),
    "articles.reopen": Route(form=ACTION),
    "articles.heat": Route(form=ACTION | {"heat": Param()}),
    # "merge", "duplicate" and "absorb" are no inputs, but a refusal echoes the form's value of them.
    "articles.merge": Route(
        form=ACTION | {"position": Param(bases=({"canonical": "0"},)), "canonical": Param(), "merge": Param()}
    ),
    "articles.unmerge": Route(form=ACTION | {"canonical": Param(), "merge": Param()}),
    "articles.mark_duplicate": Route(form=ACTION | {"duplicate": Param()}),
    "articles.absorb": Route(form=ACTION | {"absorb": Param()}),
    "articles.undo": Route(form={"answer": Param(), "next": Param(), "filters": Param(), "panel": Param()}),
    "queue.undo_batch": Route(form={"answer": Param(), "next": Param()}),
    "notices.show": Route(),
    "exports.index": Route(query=EXPORTS),
    "exports.count": Route(query=EXPORTS),
    "exports.download": Route(form=EXPORTS | {"format": Param()}),
    "imports.index": Route(query={"before": Param()}),
    "imports.show": Route(query={"after": Param()}),
    "imports.upload": Route(form={"files": Param()}),
    "jobs.show": Route(),
    "jobs.cancel": Route(),
    "jobs.download": Route(),
    "reports.dashboard": Route(query=STATS),
    "reports.dashboard_json": Route(query=STATS),
    "reports.dashboard_csv": Route(query=STATS),
    "reports.audit": Route(query=STATS | {"action": Param(), "article": Param(), "after": Param()}),
    "users.index": Route(query={"role": Param(), "state": Param()}),
    "users.create": Route(
        form={
            "username": Param(),
            "role": Param(),
            "password_kind": Param(),
            "password": Param(bases=({"password_kind": "typed"},)),
            "password_again": Param(bases=({"password_kind": "typed", "password": "a long password"},)),
        }
    ),
    "users.change_role": Route(form={"role": Param()}),
    "users.disable": Route(),
    "users.enable": Route(),
    "users.reset_password": Route(),
    "users.end_sessions": Route(),
    # The walk's own password is never among the hostile values: nothing is changed, each is refused.
    "account.password": Route(
        query={"next": Param()}, form={"current": Param(), "password": Param(), "password_again": Param()}
    ),
    "health.healthz": Route(),
    "health.readyz": Route(),
    "metrics.scrape": Route(),
}
NOT_WALKED = {"static"}  # files from disk, served by werkzeug: no view of ours reads a parameter


class _Recording(ImmutableMultiDict):
    """A query or form that notes each name read from it."""

    read: set[str] = set()

    def get(self, key, *args, **kwargs):
        _Recording.read.add(key)
        return super().get(key, *args, **kwargs)

    def getlist(self, key, *args, **kwargs):
        _Recording.read.add(key)
        return super().getlist(key, *args, **kwargs)

    def __getitem__(self, key):
        _Recording.read.add(key)
        return super().__getitem__(key)

    def __contains__(self, key):
        _Recording.read.add(key)
        return super().__contains__(key)


def test_every_route_is_in_the_table(app):
    endpoints = {rule.endpoint for rule in app.url_map.iter_rules()} - NOT_WALKED
    assert endpoints == set(PARAMETERS), "add the new route (and what it reads) to PARAMETERS"


@pytest.fixture
def walker(app, client, make_user, tmp_path):
    """Logged in as an admin, with two articles (one with a decision of the admin's to undo)."""
    app.request_class = type(
        "RecordingRequest", (app.request_class,), {"parameter_storage_class": _Recording}
    )
    _Recording.read = set()
    admin = make_user("root", "admin")
    import_paths([str(REAL_SEED)], max_bytes=2**21)
    write_seed(tmp_path, "other", title="Another article about something else")
    import_paths([str(tmp_path)], max_bytes=2**21)
    first, second = db.session.scalars(select(Article.id).order_by(Article.id)).all()[:2]
    moderation.set_heat(first, admin, "40", 1, 200)
    event = db.session.scalar(select(AuditEvent.id).where(AuditEvent.action == "heat"))
    (tmp_path / "refused.md").write_text(INJECTED)
    run = import_runs.record_import(
        [tmp_path / "refused.md"],
        ImportReport(),
        kind="command",
        source=INJECTED,
        started_by="t",
        max_bytes=2**21,
    )
    response = client.post(
        "/login", data={"username": "root", "password": PASSWORD, "csrf_token": csrf_token(client)}
    )
    assert response.status_code == 302
    # The users' routes change another user than the walk's own admin, whose session must last the walk.
    target = make_user("target", "moderator")
    path_values = {
        "article_id": first,
        "other_id": second,
        "source_id": second,
        "event_id": event,
        "run_id": run.id,
        "user_id": target.id,
        "job_id": jobs.create("export", {"format": "zip", "filters": {}}, requested_by="t").id,
    }
    return client, path_values, first


def _requests(app, path_values, article_id):
    """(method, endpoint, url, query, form) for each route, parameter, shape, base and hostile value."""
    for rule in app.url_map.iter_rules():
        if rule.endpoint in NOT_WALKED:
            continue
        route = PARAMETERS[rule.endpoint]
        for method in sorted(rule.methods & {"GET", "POST"}):
            path = {name: str(path_values[name]) for name in rule.arguments}
            yield method, rule, path, {}, {}
            for name in rule.arguments:
                for value in HOSTILE:
                    yield method, rule, path | {name: value}, {}, {}
            params = route.query if method == "GET" else route.form
            for name, param in params.items():
                for base in param.bases:
                    for shape in param.shapes:
                        for value in HOSTILE:
                            fields = {**base, name: shape.replace("%s", value)}
                            if method == "GET":
                                yield method, rule, path, fields, {}
                            else:
                                yield method, rule, path, {}, fields


def _url(rule, path: dict) -> str:
    url = rule.rule
    for name, value in path.items():
        url = url.replace(f"<int:{name}>", quote(value, safe=""))
    return url


def _form_base(rule, article_id: int) -> dict:
    """What a real form of this route sends besides the walked field."""
    if rule.endpoint == "queue.bulk":
        return {"verdict": "approve", "article": f"{article_id}:{fresh(article_id).version}"}
    if rule.endpoint == "exports.download":
        return {"format": "yaml"}
    if rule.endpoint == "users.create":
        return {"username": "newcomer", "role": "moderator"}
    if rule.endpoint.startswith("articles."):
        return {"version": str(fresh(article_id).version), "answer": "moderation"}
    return {}


def _send(client, method, rule, url, query, form, article_id, token):
    if method == "GET":
        return client.get(url, query_string=query)
    return client.post(url, data={**_form_base(rule, article_id), **form, "csrf_token": token})


def test_no_route_answers_a_hostile_value_with_a_500(app, walker):
    client, path_values, article_id = walker
    walked, failures = 0, []
    token = csrf_token(client, "/")  # the session's token: good for every form of the walk
    # Logging out would end the walk's session: that route goes last.
    requests = sorted(
        _requests(app, path_values, article_id), key=lambda each: each[1].endpoint == "auth.logout"
    )
    for method, rule, path, query, form in requests:
        url = _url(rule, path)
        walked += 1
        try:
            response = _send(client, method, rule, url, query, form, article_id, token)
        except Exception as error:  # the test app lets exceptions through: in production each is a 500
            failures.append(f"{method} {url} {query or form!r:.120}: {error!r:.300}")
            db.session.rollback()
            continue
        body = response.get_data(as_text=True)
        response.close()
        unescaped = response.mimetype == "text/html" and INJECTED in body
        if response.status_code >= 500 or unescaped or "Traceback" in body:
            failures.append(f"{method} {url} {query or form!r:.120}: {response.status_code}")
    print(f"walked {walked} requests over {len(PARAMETERS)} routes × {len(HOSTILE)} hostile values")
    assert not failures, f"{len(failures)} of {walked}:\n" + "\n".join(failures[:60])
    unlisted = (
        _Recording.read - {"csrf_token"} - {n for r in PARAMETERS.values() for n in (*r.query, *r.form)}
    )
    assert not unlisted, f"views read parameters the walk does not know: {unlisted}"


@pytest.mark.parametrize(
    "url",
    ["/?q=a%00b", "/?%00=1", "/?q=a\x00b", "/?topic=AI&provider=%00"],
    ids=["value, escaped", "name, escaped", "value, raw byte", "second parameter"],
)
def test_a_nul_in_the_query_string_is_refused_by_name(client, login, url):
    login()
    answer = client.get(url)
    assert answer.status_code == 400
    assert "holds a NUL character" in answer.get_data(as_text=True)


def test_a_nul_in_a_form_is_refused_and_changes_nothing(client, login, article):
    login()
    answer = client.post(
        f"/articles/{article.id}/reject",
        data={"version": article.version, "reason": "off\x00topic", "csrf_token": csrf_token(client)},
    )
    assert answer.status_code == 400
    assert "'reason' holds a NUL character" in html.unescape(answer.get_data(as_text=True))
    db.session.expire_all()
    assert db.session.get(Article, article.id).status == "pending"


def test_an_escaped_percent_sign_is_not_taken_for_a_nul(client, login):
    login()
    # "%2500" is the text "%00", which any field may hold.
    assert client.get("/?q=%2500").status_code == 200
