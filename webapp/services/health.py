"""Readiness: the database answers and stands at the schema this code's migrations lead to."""

import logging
from functools import cache

from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.exc import OperationalError, SQLAlchemyError

from ..models import db

log = logging.getLogger(__name__)


def schema_problem(migrations: str) -> str | None:
    """None when the database is ready for this code; else why not, in words fit for anyone to read."""
    expected = head_revisions(migrations)
    try:
        with db.engine.connect() as connection:
            current = frozenset(MigrationContext.configure(connection).get_current_heads())
    except OperationalError as error:
        log.warning("not ready: database unreachable: %s", error.orig or error)
        return "database unreachable"
    except SQLAlchemyError as error:
        log.warning("not ready: database error: %s", error)
        return f"database error ({type(error).__name__})"
    if current != expected:
        return f"database at revision {_named(current)}, code expects {_named(expected)}"
    return None


@cache
def head_revisions(migrations: str) -> frozenset[str]:
    """The head revisions of the migrations in the folder `migrations`, read once per process."""
    return frozenset(ScriptDirectory(migrations).get_heads())


def _named(revisions: frozenset[str]) -> str:
    return ", ".join(sorted(revisions)) or "none (not migrated)"
