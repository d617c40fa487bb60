"""Command line: `flask --app webapp ...` or the `copydesk` script (the same commands)."""

import contextlib
import json
import logging
import os
import signal
import sys
import threading
from pathlib import Path

import click
from flask import current_app
from flask_migrate.cli import db as migrate_cli

from .models import ROLES
from .services import import_runs, job_queue, rollups, seed_watch
from .services.accounts import (
    AccountError,
    create_user,
    end_user_sessions,
    ensure_admin,
    list_users,
    one_time_password,
    reset_password,
    set_active,
    set_password,
    set_role,
)
from .services.backup import BackupError, backup
from .services.exporting import FORMATS, ExportError, ExportFilters, export, parse_time, sweep
from .services.reindexing import reindex
from .services.seed_import import ImportReport, find_seed_files
from .web.request_log import configure_logging

logger = logging.getLogger(__name__)

seeds_cli = click.Group("seeds", help="Load seed files into the review queue.")
users_cli = click.Group("users", help="Manage who can log in.")
stats_cli = click.Group("stats", help="The stats dashboard's rollups.")
jobs_cli = click.Group("jobs", help="The background jobs started in the browser (exports, uploads).")
# Flask-Migrate's `db` commands (upgrade, migrate...), and `db backup` beside them.
db_cli = click.Group(
    "db",
    commands=dict(migrate_cli.commands),
    params=migrate_cli.params,
    callback=migrate_cli.callback,
    help=migrate_cli.help,
)


def init_app(app) -> None:
    app.cli.add_command(db_cli)
    app.cli.add_command(seeds_cli)
    app.cli.add_command(users_cli)
    app.cli.add_command(stats_cli)
    app.cli.add_command(export_command)
    app.cli.add_command(jobs_cli)


@db_cli.command("backup")
@click.argument("path", type=click.Path(path_type=Path))
@click.option("--force", is_flag=True, help="Replace PATH if it exists.")
def backup_command(path, force):
    """Copy the SQLite database to PATH while the app runs (PostgreSQL: says how to use pg_dump)."""
    try:
        made = backup(path, force=force)
    except BackupError as error:
        raise click.ClickException(str(error)) from None
    except OSError as error:
        raise click.ClickException(f"cannot write {path}: {error.strerror or error}") from None
    click.echo(f"backed up the database to {made.path} ({made.bytes:,} bytes)")


@seeds_cli.command("import")
@click.argument("paths", nargs=-1, required=True)
@click.option("--json", "as_json", is_flag=True, help="Print the summary as one JSON object.")
@click.option("--batch-size", default=500, show_default=True, help="Files per transaction.")
def import_command(paths, as_json, batch_size):
    """Import seed files, folders (recursively: *.md, *.txt) and glob patterns, recorded as an import run."""
    report = ImportReport()
    files = find_seed_files(paths, report)
    run_id = None
    try:
        run_id = import_runs.begin_run(
            kind="command", source=import_runs.source_of(paths), started_by=import_runs.COMMAND_LINE
        )
        with _progress(len(files), show=not as_json) as advance:
            import_runs.import_into_run(
                run_id,
                files,
                report,
                max_bytes=current_app.config["SEED_MAX_BYTES"],
                batch_size=batch_size,
                on_progress=advance,
            )
    finally:  # import_files refuses a file that fails; should the import itself fail, still say what it did
        if as_json:
            click.echo(json.dumps(report.as_dict() | {"run": run_id}, ensure_ascii=False))
        else:
            _print_report(report, run_id)
    sys.exit(1 if report.invalid else 0)


@contextlib.contextmanager
def _progress(total: int, show: bool):
    if not (show and sys.stderr.isatty() and total > 500):
        yield lambda _n: None
        return
    with click.progressbar(length=total, label="Importing seeds", file=sys.stderr) as bar:
        yield bar.update


def _print_report(report: ImportReport, run_id: int | None) -> None:
    for error in report.errors:
        click.echo(f"invalid: {error['file']}: {error['message']}", err=True)
    for conflict in report.conflicting:
        click.echo(f"conflict: {conflict['file']}: {conflict['message']}", err=True)
    click.echo(
        f"imported {report.imported}, updated {report.updated}, unchanged {report.unchanged}, "
        f"invalid {report.invalid}, conflicts {report.conflicts}"
        + (f" (import run {run_id})" if run_id is not None else "")
    )


@seeds_cli.command("watch")
@click.argument("folder", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option(
    "--interval",
    type=click.FloatRange(min=0.05),
    default=seed_watch.DEFAULT_INTERVAL,
    show_default=True,
    help="Seconds between looks: a file is imported once two looks find it unchanged.",
)
@click.option(
    "--polling",
    is_flag=True,
    help="Compare the whole folder every interval instead of waiting for the system's notices "
    "(for a network filesystem, whose other machines' writes send none).",
)
@click.option("--batch-size", default=500, show_default=True, help="Files per transaction.")
def watch_command(folder, interval, polling, batch_size):
    """Import new and changed seed files as they appear in FOLDER (and its subfolders), until stopped."""
    if not current_app.config["LOG_FORMAT"]:
        configure_logging("text", current_app.config["LOG_LEVEL"])  # each file's outcome is a log line
    watcher = seed_watch.SeedWatcher(
        folder,
        max_bytes=current_app.config["SEED_MAX_BYTES"],
        interval=interval,
        polling=polling,
        batch_size=batch_size,
    )
    stop = threading.Event()

    def request_stop(signum, _frame):
        name = signal.Signals(signum).name
        logger.info("%s: stopping after the current batch (send it again to stop at once)", name)
        stop.set()
        signal.signal(signum, signal.default_int_handler if signum == signal.SIGINT else signal.SIG_DFL)

    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, request_stop)
    try:
        watcher.run(stop)
    except seed_watch.WatchError as error:
        raise click.ClickException(str(error)) from None


@jobs_cli.command("worker")
@click.option("--workers", default=2, show_default=True, help="Jobs run at the same time (threads).")
def worker_command(workers):
    """Run the jobs started in the browser; every minute, fail dead workers' jobs and delete old exports."""
    if not current_app.config["LOG_FORMAT"]:
        configure_logging("text", current_app.config["LOG_LEVEL"])
    if current_app.config["JOBS_IMMEDIATE"]:
        raise click.ClickException("JOBS_IMMEDIATE is set: jobs run in the web process, not here")
    job_queue.housekeeping()
    job_queue.consumer(current_app._get_current_object(), workers).run()


@seeds_cli.command("reindex")
def reindex_command():
    """Compute every article's duplicate suggestions and story index again, with today's rules."""
    report = reindex()
    click.echo(
        f"reindexed {report.articles} articles: {report.suggestions} duplicate suggestions, "
        f"{report.matches} possible duplicates across the queue, {report.covered} links covered together"
    )


@stats_cli.command("rebuild-rollups")
def rebuild_rollups_command():
    """Count every decision, import and merge into the stats' rollups again, from the articles."""
    written = rollups.rebuild()
    click.echo(
        f"rebuilt the stats rollups: {written['rollups']} rows, {written['decision_times']} decision times"
    )


@users_cli.command("create")
@click.argument("username")
@click.option("--role", type=click.Choice(ROLES), default="moderator", show_default=True)
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
@click.option(
    "--one-time",
    is_flag=True,
    help="Make a one-time password, printed once; it must be changed at the first login.",
)
def create_user_command(username, role, password_stdin, one_time):
    """Create a user (the password is prompted for, or made one-time)."""
    if one_time and password_stdin:
        raise click.UsageError("give --one-time or --password-stdin, not both")
    password = one_time_password() if one_time else _read_password(password_stdin)
    with _account_errors():
        user = create_user(username, password, role, one_time=one_time)
    click.echo(f"created {role} {user.username!r}")
    if one_time:
        _print_one_time(password)


@users_cli.command("reset-password")
@click.argument("username")
def reset_password_command(username):
    """Give a user a one-time password (printed once), to change at their next login; their sessions end."""
    with _account_errors():
        password = reset_password(username)
    click.echo(f"reset the password of {username.strip()!r}")
    _print_one_time(password)


@users_cli.command("end-sessions")
@click.argument("username")
def end_sessions_command(username):
    """Log a user out everywhere: their open sessions end at their next request."""
    with _account_errors():
        user = end_user_sessions(username)
    click.echo(f"ended the sessions of {user.username!r}")


@users_cli.command("set-password")
@click.argument("username")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
def set_password_command(username, password_stdin):
    """Give a user a new password (prompted for)."""
    password = _read_password(password_stdin)
    with _account_errors():
        user = set_password(username, password)
    click.echo(f"changed the password of {user.username!r}")


@users_cli.command("disable")
@click.argument("username")
def disable_command(username):
    """Stop a user from logging in; their open sessions end at their next request."""
    with _account_errors():
        user = set_active(username, False)
    click.echo(f"disabled {user.username!r}")


@users_cli.command("enable")
@click.argument("username")
def enable_command(username):
    """Let a disabled user log in again."""
    with _account_errors():
        user = set_active(username, True)
    click.echo(f"enabled {user.username!r}")


@users_cli.command("set-role")
@click.argument("username")
@click.argument("role", type=click.Choice(ROLES))
def set_role_command(username, role):
    """Change a user's role."""
    with _account_errors():
        user = set_role(username, role)
    click.echo(f"{user.username!r} is now {role}")


@users_cli.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON list of users.")
def list_command(as_json):
    """List users: username, role, active or disabled, and the date each was created."""
    users = list_users()
    if as_json:
        rows = [
            {
                "username": u.username,
                "role": u.role,
                "active": u.active,
                "created_at": u.created_at.isoformat(),
            }
            for u in users
        ]
        click.echo(json.dumps(rows, ensure_ascii=False))
        return
    width = max((len(u.username) for u in users), default=0)
    for u in users:
        state = "active" if u.active else "disabled"
        click.echo(f"{u.username:<{width}}  {u.role:<9}  {state:<8}  {u.created_at.date().isoformat()}")


def _print_one_time(password: str) -> None:
    click.echo(
        f"one-time password: {password}\n(shown once: hand it over now; it must be changed at the next login)"
    )


def _read_password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\n")
    return click.prompt("Password", hide_input=True, confirmation_prompt=True)


@contextlib.contextmanager
def _account_errors():
    try:
        yield
    except AccountError as error:
        raise click.ClickException(str(error)) from None


@users_cli.command("ensure-admin")
def ensure_admin_command():
    """On a database with no user, create `admin` (password: ADMIN_PASSWORD, or a random one printed once)."""
    chosen = os.environ.get("ADMIN_PASSWORD") or None
    try:
        password = ensure_admin(chosen)
    except AccountError as error:
        raise click.ClickException(f"ADMIN_PASSWORD: {error}") from None
    if password is None:
        return
    if chosen:
        click.echo("Created user 'admin' with the password from ADMIN_PASSWORD.")
    else:
        click.echo(f"Created user 'admin' with password: {password}\n(shown once: note it now)")


@click.command("export")
@click.option("--out", help="Folder (dir), file (zip, yaml), or - for stdout (yaml).")
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="dir", show_default=True)
@click.option("--since", help="Only articles approved at or after this ISO time (UTC unless it says).")
@click.option("--since-last", is_flag=True, help="Only what no earlier --since-last run exported (for cron).")
@click.option(
    "--cleanup",
    is_flag=True,
    help="Export nothing: mark runs whose process is gone interrupted and remove their leftovers.",
)
def export_command(out, fmt, since, since_last, cleanup):
    """Export approved articles in the seed format, and record the run."""
    if cleanup:
        _export_cleanup(out)
        return
    if not out:
        raise click.UsageError("give --out PATH (or --cleanup)")
    if since and since_last:
        raise click.UsageError("give --since or --since-last, not both")
    if out == "-" and fmt != "yaml":
        raise click.UsageError("--out - (stdout) needs --format yaml")
    try:
        filters = ExportFilters(since=parse_time(since, "--since") if since else None, since_last=since_last)
        run = export(
            sys.stdout.buffer if out == "-" else Path(out), fmt, filters, requested_by="command line"
        )
    except ExportError as error:
        raise click.ClickException(str(error)) from None
    except OSError as error:
        raise click.ClickException(f"cannot write {out}: {error.strerror or error}") from None
    click.echo(
        f"exported {run.count} approved articles to {out} (run {run.id}, sha256 {run.sha256})", err=True
    )


def _export_cleanup(out: str | None) -> None:
    try:
        done = sweep([Path(out)] if out and out != "-" else None)
    except OSError as error:
        raise click.ClickException(f"cannot clean up: {error.strerror or error}") from None
    for run_id in done.interrupted:
        click.echo(f"run {run_id}: its process is gone, marked interrupted")
    for run_id in done.unknown:
        click.echo(f"run {run_id}: running on another host, left as it is")
    for path in done.removed:
        click.echo(f"removed {path}")
    click.echo(f"{len(done.interrupted)} runs marked interrupted, {len(done.removed)} leftovers removed")
