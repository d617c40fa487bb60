"""Command line: `flask --app webapp ...` or the `copydesk` script (the same commands)."""

import contextlib
import json
import os
import sys

import click
from flask import current_app
from flask.cli import FlaskGroup

from .accounts import AccountError, create_user, ensure_admin
from .models import ROLES
from .seed_import import ImportReport, find_seed_files, import_files

seeds_cli = click.Group("seeds", help="Load seed files into the review queue.")
users_cli = click.Group("users", help="Manage who can log in.")


def init_app(app) -> None:
    app.cli.add_command(seeds_cli)
    app.cli.add_command(users_cli)


@seeds_cli.command("import")
@click.argument("paths", nargs=-1, required=True)
@click.option("--json", "as_json", is_flag=True, help="Print the summary as one JSON object.")
@click.option("--batch-size", default=500, show_default=True, help="Files per transaction.")
def import_command(paths, as_json, batch_size):
    """Import seed files, folders (recursively: *.md, *.txt) and glob patterns."""
    report = ImportReport()
    files = find_seed_files(paths, report)
    with _progress(len(files), show=not as_json) as advance:
        import_files(
            files, report, max_bytes=current_app.config["SEED_MAX_BYTES"], batch_size=batch_size, on_progress=advance
        )
    if as_json:
        click.echo(json.dumps(report.as_dict(), ensure_ascii=False))
    else:
        _print_report(report)
    sys.exit(1 if report.invalid else 0)


@contextlib.contextmanager
def _progress(total: int, show: bool):
    if not (show and sys.stderr.isatty() and total > 500):
        yield lambda _n: None
        return
    with click.progressbar(length=total, label="Importing seeds", file=sys.stderr) as bar:
        yield bar.update


def _print_report(report: ImportReport) -> None:
    for error in report.errors:
        click.echo(f"invalid: {error['file']}: {error['message']}", err=True)
    for conflict in report.conflicting:
        click.echo(f"conflict: {conflict['file']}: {conflict['message']}", err=True)
    click.echo(
        f"imported {report.imported}, updated {report.updated}, unchanged {report.unchanged}, "
        f"invalid {report.invalid}, conflicts {report.conflicts}"
    )


@users_cli.command("create")
@click.argument("username")
@click.option("--role", type=click.Choice(ROLES), default="moderator", show_default=True)
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
def create_user_command(username, role, password_stdin):
    """Create a user (the password is prompted for)."""
    if password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    try:
        create_user(username, password, role)
    except AccountError as error:
        raise click.ClickException(str(error)) from None
    click.echo(f"created {role} {username!r}")


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


def main() -> None:
    """The `copydesk` console script."""
    from . import create_app

    FlaskGroup(create_app=create_app, help="Copydesk: the moderation desk for news seeds.")()
