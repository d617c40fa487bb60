"""Copydesk: the moderation desk for news seeds."""

from pathlib import Path

from flask import Flask
from flask_migrate import Migrate
from flask_wtf.csrf import CSRFProtect
from htmx_flask import Htmx
from sqlalchemy import event

from . import cli
from .config import from_environment, instance_path
from .models import db
from .services import job_queue
from .services.wal_checkpoints import WalCheckpointer
from .web import (
    account,
    answers,
    articles,
    auth,
    errors,
    exports,
    health,
    imports,
    jobs,
    metrics,
    notices,
    queue,
    reports,
    request_log,
    security,
    templating,
    users,
)

PACKAGE = Path(__file__).resolve().parent
PROJECT_ROOT = PACKAGE.parent
MIGRATIONS = PACKAGE / "migrations"

csrf = CSRFProtect()
migrate = Migrate()
htmx = Htmx()


def create_app(config: dict | None = None) -> Flask:
    """Build the app: config from the environment (then `config`), extensions, blueprints, CLI."""
    app = Flask(
        __name__,
        instance_path=instance_path(PROJECT_ROOT),
        template_folder=_bundled("templates"),
        static_folder=_bundled("static"),
    )
    app.jinja_environment = templating.TemplateEnvironment  # before anything renders
    app.config.from_mapping(from_environment(app.instance_path, overrides=config or {}))
    app.config.from_mapping(config or {})
    request_log.init_app(app)

    db.init_app(app)
    with app.app_context():
        _tune_sqlite(app, db.engine)
    migrate.init_app(app, db, directory=str(MIGRATIONS))
    csrf.init_app(app)
    htmx.init_app(app)
    auth.init_app(app)
    account.init_app(app)
    security.init_app(app)
    errors.init_app(app)
    templating.init_app(app)
    notices.init_app(app)
    answers.init_app(app)
    metrics.init_app(app)
    job_queue.init_app(app)

    app.register_blueprint(auth.bp)
    app.register_blueprint(queue.bp)
    app.register_blueprint(articles.bp)
    app.register_blueprint(notices.bp)
    app.register_blueprint(exports.bp)
    app.register_blueprint(imports.bp)
    app.register_blueprint(jobs.bp)
    app.register_blueprint(reports.bp)
    app.register_blueprint(users.bp)
    app.register_blueprint(account.bp)
    app.register_blueprint(health.bp)
    app.register_blueprint(metrics.bp)
    cli.init_app(app)
    return app


def _bundled(folder: str) -> str:
    """The wheel carries `folder` inside the package; a checkout (or an editable install), at its top."""
    inside = PACKAGE / folder
    return str(inside if inside.is_dir() else PROJECT_ROOT / folder)


def _tune_sqlite(app: Flask, engine) -> None:
    if engine.dialect.name != "sqlite":
        return
    checkpointer = _wal_checkpointer(app, engine)

    @event.listens_for(engine, "connect")
    def set_pragmas(dbapi_connection, _record):
        cursor = dbapi_connection.cursor()
        # WAL lets readers work while an import or a decision writes; foreign keys are off by default.
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=5000")
        if checkpointer is not None and checkpointer.running:
            cursor.execute("PRAGMA wal_autocheckpoint=0")
        cursor.close()


def _wal_checkpointer(app: Flask, engine) -> WalCheckpointer | None:
    """For a SQLite file, the thread that checkpoints it once this process serves a request."""
    seconds = app.config["SQLITE_CHECKPOINT_SECONDS"]
    database = engine.url.database
    if not seconds or not database or database == ":memory:" or database.startswith("file:"):
        return None
    checkpointer = WalCheckpointer(database, seconds)
    app.extensions["wal_checkpointer"] = checkpointer
    app.before_request(checkpointer.start)
    return checkpointer
