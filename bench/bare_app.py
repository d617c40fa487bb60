"""The baseline for load benchmarks: a bare Flask app with one route and nothing else.

    gunicorn -w 2 --worker-class sync -b 127.0.0.1:8000 "bench.bare_app:create_app()"

No database, no templates, no sessions, no extensions: `GET /` returns a small fixed
HTML string, so its requests/s is what Flask under the same gunicorn settings costs by
itself. `bench.load_queue` prints Copydesk's figures as ratios to it.
"""

from flask import Flask

PAGE = "<!doctype html><title>bare</title><p>Hello from a bare Flask route.</p>\n"


def create_app() -> Flask:
    """The bare app: one route returning a fixed page."""
    app = Flask(__name__)

    @app.get("/")
    def index():
        """A small fixed HTML page."""
        return PAGE

    return app
