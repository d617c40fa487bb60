"""search: full-text search over articles, and a providers table for the provider filter

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-04 04:00:00

`articles.related_titles` holds the titles of an article's related entries, one a line, so that
one row carries everything a search reads (title, excerpt, provider, related titles).

SQLite: `articles_fts`, an FTS5 table over those four columns with `articles` as its external
content, kept in step by triggers in the same transaction as every insert, update and delete;
PostgreSQL: `articles.search_vector`, a generated tsvector of the same columns (the 'simple'
configuration: no stemming, no stop words, like FTS5's unicode61), with a GIN index.

Neither is in the models (test_migrations leaves them out by name: SEARCH_SCHEMA in models.py).
`ix_articles_sort_keys` (id first, then every queue sort's column) sorts a search's few matches
without reading their rows, which hold whole seeds.
`providers` lists each provider name and domain pair the articles carry (kept by triggers on
`articles`, whatever writes them), with lowercase keys (SQL's lower(): ASCII letters
only on SQLite, as its LIKE folds them), so that the provider filter finds names without reading
articles.
"""

import sqlalchemy as sa
from alembic import op

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None

FTS_COLUMNS = "title, excerpt, provider_name, related_titles"
SQLITE_SCHEMA = [
    f"CREATE VIRTUAL TABLE articles_fts USING fts5({FTS_COLUMNS}, content='articles', content_rowid='id', "
    "tokenize='unicode61 remove_diacritics 2')",
    "CREATE TRIGGER articles_fts_insert AFTER INSERT ON articles BEGIN "
    f"INSERT INTO articles_fts (rowid, {FTS_COLUMNS}) "
    "VALUES (NEW.id, NEW.title, NEW.excerpt, NEW.provider_name, NEW.related_titles); END",
    "CREATE TRIGGER articles_fts_delete AFTER DELETE ON articles BEGIN "
    f"INSERT INTO articles_fts (articles_fts, rowid, {FTS_COLUMNS}) "
    "VALUES ('delete', OLD.id, OLD.title, OLD.excerpt, OLD.provider_name, OLD.related_titles); END",
    f"CREATE TRIGGER articles_fts_update AFTER UPDATE OF {FTS_COLUMNS} ON articles BEGIN "
    f"INSERT INTO articles_fts (articles_fts, rowid, {FTS_COLUMNS}) "
    "VALUES ('delete', OLD.id, OLD.title, OLD.excerpt, OLD.provider_name, OLD.related_titles); "
    f"INSERT INTO articles_fts (rowid, {FTS_COLUMNS}) "
    "VALUES (NEW.id, NEW.title, NEW.excerpt, NEW.provider_name, NEW.related_titles); END",
    "INSERT INTO articles_fts (articles_fts) VALUES ('rebuild')",
]
POSTGRESQL_VECTOR = (
    "setweight(to_tsvector('simple'::regconfig, title), 'A') || "
    "setweight(to_tsvector('simple'::regconfig, coalesce(excerpt, '')), 'B') || "
    "setweight(to_tsvector('simple'::regconfig, provider_name), 'C') || "
    "setweight(to_tsvector('simple'::regconfig, related_titles), 'D')"
)
POSTGRESQL_SCHEMA = [
    "ALTER TABLE articles ADD COLUMN search_vector tsvector "
    f"GENERATED ALWAYS AS ({POSTGRESQL_VECTOR}) STORED",
    "CREATE INDEX ix_articles_search ON articles USING gin (search_vector)",
]


PROVIDER_UPSERT = (
    "INSERT INTO providers (name, domain, name_key, domain_key) VALUES (NEW.provider_name, "
    "coalesce(NEW.provider_domain, ''), lower(NEW.provider_name), lower(coalesce(NEW.provider_domain, ''))) "
    "ON CONFLICT (name, domain) DO NOTHING;"
)
# A pair no article carries any more leaves (the NOT EXISTS reads ix_articles_provider_name).
PROVIDER_FORGET = (
    "DELETE FROM providers WHERE name = OLD.provider_name AND domain = coalesce(OLD.provider_domain, '') "
    "AND NOT EXISTS (SELECT 1 FROM articles WHERE provider_name = OLD.provider_name "
    "AND coalesce(provider_domain, '') = coalesce(OLD.provider_domain, ''));"
)
SQLITE_PROVIDERS_TRIGGERS = [
    f"CREATE TRIGGER providers_insert AFTER INSERT ON articles BEGIN {PROVIDER_UPSERT} END",
    "CREATE TRIGGER providers_update AFTER UPDATE OF provider_name, provider_domain ON articles "
    f"BEGIN {PROVIDER_FORGET} {PROVIDER_UPSERT} END",
    f"CREATE TRIGGER providers_delete AFTER DELETE ON articles BEGIN {PROVIDER_FORGET} END",
]
POSTGRESQL_PROVIDERS_FUNCTION = f"""
CREATE FUNCTION providers_remember() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP <> 'INSERT' THEN {PROVIDER_FORGET} END IF;
  IF TG_OP <> 'DELETE' THEN {PROVIDER_UPSERT} END IF;
  RETURN NULL;
END
$$
"""
POSTGRESQL_PROVIDERS_TRIGGER = (
    "CREATE TRIGGER providers_remember AFTER INSERT OR DELETE OR UPDATE OF provider_name, provider_domain "
    "ON articles FOR EACH ROW EXECUTE FUNCTION providers_remember()"
)


def upgrade():
    postgresql = op.get_bind().dialect.name == "postgresql"
    op.add_column("articles", sa.Column("related_titles", sa.Text(), server_default="", nullable=False))
    aggregate = (
        "string_agg(title, E'\\n' ORDER BY position)" if postgresql else "group_concat(title, char(10))"
    )
    op.execute(
        f"UPDATE articles SET related_titles = (SELECT {aggregate} FROM "
        "(SELECT title, position FROM related_links WHERE article_id = articles.id ORDER BY position) AS r) "
        "WHERE EXISTS (SELECT 1 FROM related_links WHERE article_id = articles.id)"
    )
    for statement in POSTGRESQL_SCHEMA if postgresql else SQLITE_SCHEMA:
        op.execute(statement)
    op.create_index(
        "ix_articles_sort_keys", "articles", ["id", "status", "published_at", "quality", "heat"], unique=False
    )
    op.create_table(
        "providers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("domain", sa.Text(), nullable=False),
        sa.Column("name_key", sa.Text(), nullable=False),
        sa.Column("domain_key", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_providers")),
        sa.UniqueConstraint("name", "domain", name=op.f("uq_providers_name")),
    )
    op.create_index(op.f("ix_providers_name_key"), "providers", ["name_key"])
    op.create_index(op.f("ix_providers_domain_key"), "providers", ["domain_key"])
    op.execute(
        "INSERT INTO providers (name, domain, name_key, domain_key) "
        "SELECT DISTINCT provider_name, coalesce(provider_domain, ''), lower(provider_name), "
        "lower(coalesce(provider_domain, '')) FROM articles"
    )
    if postgresql:
        op.execute(POSTGRESQL_PROVIDERS_FUNCTION)
        op.execute(POSTGRESQL_PROVIDERS_TRIGGER)
    else:
        for statement in SQLITE_PROVIDERS_TRIGGERS:
            op.execute(statement)


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        statements = [
            "DROP TRIGGER providers_remember ON articles",
            "DROP FUNCTION providers_remember()",
            "DROP INDEX ix_articles_search",
            "ALTER TABLE articles DROP COLUMN search_vector",
        ]
    else:
        triggers = ("providers_insert", "providers_update", "providers_delete", "articles_fts_insert")
        statements = [
            f"DROP TRIGGER {name}" for name in (*triggers, "articles_fts_delete", "articles_fts_update")
        ]
        statements.append("DROP TABLE articles_fts")
    for statement in statements:
        op.execute(statement)
    op.drop_index(op.f("ix_providers_domain_key"), table_name="providers")
    op.drop_index(op.f("ix_providers_name_key"), table_name="providers")
    op.drop_table("providers")
    op.drop_index("ix_articles_sort_keys", table_name="articles")
    op.execute("ALTER TABLE articles DROP COLUMN related_titles")
