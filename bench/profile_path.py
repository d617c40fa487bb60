"""Profile one measured path in process with pyinstrument: where its time goes, call by call.

    python -m bench.profile_path --db PATH [--path approve-next|approve|fragment|deep] [--requests 200]
                            [--deep-page 1000] [--html OUT.html]

Runs the app in this process on the SQLite database PATH (bench/queue_db.py's: a copy of it,
since approving changes it), logs in as its moderator with Flask's test client, sends the same
request as the load benchmarks `--requests` times with pyinstrument sampling, and prints the call
tree (or writes it as HTML). Paths: `approve-next` is approve with the next article's panel
(`answer=moderation&open_next=`), the slowest of bench/load_queue.py's; `approve` the plain
approve; `fragment` the queue's 50-row fragment; `deep` its page `--deep-page` (as bench/peer.py).
pyinstrument is in the `bench` extra.
"""

from __future__ import annotations

import argparse
import secrets
import sys
from pathlib import Path
from urllib.parse import quote

from pyinstrument import Profiler

from webapp import create_app

from . import queue_db
from .http_session import csrf_token
from .load_queue import FRAGMENT_PATH
from .peer import deep_page_start

PATHS = ("approve-next", "approve", "fragment", "deep")


def requests_for(path: str, db_path: Path, count: int, deep_page: int):
    """(method, url, form) for each request to send."""
    if path in ("fragment", "deep"):
        url = FRAGMENT_PATH
        if path == "deep":
            cursor, _ = deep_page_start(db_path, deep_page)
            url += f"&after={quote(cursor)}"
        return [("GET", url, None)] * count
    pending = queue_db.pending_versions(db_path)[: count + 1]
    if len(pending) < count + 1:
        raise SystemExit(f"only {len(pending)} pending articles in {db_path}")
    built = []
    for (article_id, version), (next_id, _) in zip(pending, pending[1:], strict=False):
        form = {"version": version}
        if path == "approve-next":
            form |= {"answer": "moderation", "open_next": next_id}
        built.append(("POST", f"/articles/{article_id}/approve", form))
    return built


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.profile_path", description=__doc__.splitlines()[0])
    parser.add_argument("--db", type=Path, required=True, help="a bench.queue_db SQLite file (a copy)")
    parser.add_argument("--path", choices=PATHS, default="approve-next")
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--deep-page", type=int, default=1000)
    parser.add_argument("--html", type=Path, help="write pyinstrument's HTML here instead of printing text")
    args = parser.parse_args(argv)
    if not args.db.is_file():
        parser.error(f"no database at {args.db}: build one with python -m bench.load_queue --db PATH")
    app = create_app(
        {"SQLALCHEMY_DATABASE_URI": queue_db.sqlite_url(args.db), "SECRET_KEY": secrets.token_hex(16)}
    )
    client = app.test_client()
    login = client.get("/login").get_data(as_text=True)
    form = {"username": queue_db.USERNAME, "password": queue_db.PASSWORD, "csrf_token": csrf_token(login)}
    if client.post("/login", data=form).status_code != 302:
        raise SystemExit(f"cannot log in as {queue_db.USERNAME}: build the database with bench.queue_db")
    token = csrf_token(client.get("/").get_data(as_text=True))
    headers = {"HX-Request": "true", "X-CSRFToken": token}
    planned = requests_for(args.path, args.db, args.requests, args.deep_page)
    method, url, data = planned[0]  # one unmeasured request: templates compiled, caches warm
    client.open(url, method=method, data=data, headers=headers)
    profiler = Profiler(interval=0.0005)
    with profiler:
        for method, url, data in planned[1:]:
            answer = client.open(url, method=method, data=data, headers=headers)
            if answer.status_code != 200:
                raise SystemExit(f"{method} {url} answered {answer.status_code}")
    if args.html:
        args.html.write_text(profiler.output_html())
        print(f"wrote {args.html}")
    else:
        print(profiler.output_text(unicode=True, color=False, show_all=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
