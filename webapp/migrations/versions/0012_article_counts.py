"""article counts: articles per status, kept by triggers on articles, for the queue's counts

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-05 16:00:00

The queue shows "411 pending" after every decision; counting the pending articles each time
would scan 100,000 index entries. The database keeps the count instead, in the same transaction
as the change, whatever makes it (a decision, an undo, an import, a script in SQL).

On PostgreSQL the triggers are deferred to the commit and take one transaction-level advisory
lock: a transaction then locks its articles (in id order, see changes.apply) before the counters,
never the other way round, so two bulk decisions over overlapping rows cannot deadlock on them.
Counters are upserted, so emptying both tables at once (TRUNCATE) leaves them consistent.

A later migration that rebuilds `articles` on SQLite (batch mode: copy, drop, rename) drops
these triggers with the old table and must create them again (tests/services/test_counts.py
catches it).
"""

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

# Any constant: the advisory lock that serialises the counters' updates at commit (PostgreSQL).
LOCK_KEY = 1_208_010


def _upsert(status: str, delta: int) -> str:
    return (
        f"INSERT INTO article_counts (status, count) VALUES ({status}, {delta}) "
        f"ON CONFLICT (status) DO UPDATE SET count = article_counts.count + ({delta});"
    )


SQLITE_TRIGGERS = [
    f"CREATE TRIGGER article_counts_insert AFTER INSERT ON articles BEGIN {_upsert('NEW.status', 1)} END",
    f"CREATE TRIGGER article_counts_delete AFTER DELETE ON articles BEGIN {_upsert('OLD.status', -1)} END",
    "CREATE TRIGGER article_counts_update AFTER UPDATE OF status ON articles "
    f"WHEN OLD.status <> NEW.status BEGIN {_upsert('OLD.status', -1)} {_upsert('NEW.status', 1)} END",
]

POSTGRESQL_FUNCTION = f"""
CREATE FUNCTION article_counts_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_advisory_xact_lock({LOCK_KEY});
  IF TG_OP <> 'INSERT' THEN {_upsert("OLD.status", -1)} END IF;
  IF TG_OP <> 'DELETE' THEN {_upsert("NEW.status", 1)} END IF;
  RETURN NULL;
END
$$
"""
POSTGRESQL_TRIGGERS = [
    f"CREATE CONSTRAINT TRIGGER article_counts_{event.split()[0].lower()} AFTER {event} ON articles "
    f"DEFERRABLE INITIALLY DEFERRED FOR EACH ROW {when}EXECUTE FUNCTION article_counts_change()"
    for event, when in (
        ("INSERT", ""),
        ("DELETE", ""),
        ("UPDATE OF status", "WHEN (OLD.status IS DISTINCT FROM NEW.status) "),
    )
]


def upgrade():
    op.create_table(
        "article_counts",
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("status", name=op.f("pk_article_counts")),
    )
    op.execute(
        "INSERT INTO article_counts (status, count) SELECT status, COUNT(*) FROM articles GROUP BY status"
    )
    if op.get_bind().dialect.name == "postgresql":
        op.execute(POSTGRESQL_FUNCTION)
        for statement in POSTGRESQL_TRIGGERS:
            op.execute(statement)
    else:
        for statement in SQLITE_TRIGGERS:
            op.execute(statement)


def downgrade():
    postgresql = op.get_bind().dialect.name == "postgresql"
    for name in ("insert", "delete", "update"):
        op.execute(f"DROP TRIGGER IF EXISTS article_counts_{name}" + (" ON articles" if postgresql else ""))
    if postgresql:
        op.execute("DROP FUNCTION IF EXISTS article_counts_change()")
    op.drop_table("article_counts")
