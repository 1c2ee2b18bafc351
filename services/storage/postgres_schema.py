"""The PostgreSQL engine's schema, as numbered migrations applied at start.

Why numbered and recorded: several instances (and a deployment slot swap) start against one database;
each applies, under an advisory lock, only the versions missing from ``store_migrations``, so a start
is idempotent and an old instance never runs against a schema it does not know (it refuses instead).
A migration is never edited once released: a change of the schema is a new entry at the end.

``{schema}`` is the store's namespace (``benefits`` for the domain data, ``state`` for bot state),
quoted as an identifier before it is put into the text.
"""

from __future__ import annotations

from typing import NamedTuple


class Migration(NamedTuple):
    version: int
    name: str
    sql: str


MIGRATIONS_TABLE = """
CREATE TABLE IF NOT EXISTS {schema}.store_migrations (
    version integer PRIMARY KEY,
    name text NOT NULL,
    applied_at timestamptz NOT NULL DEFAULT now()
)"""

MIGRATIONS: tuple[Migration, ...] = (
    Migration(1, "documents, their change numbers and the head of the change sequence", """
CREATE TABLE {schema}.store_documents (
    tbl text NOT NULL,
    id text NOT NULL,
    doc json,
    seq bigint NOT NULL,
    changed_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tbl, id)
);
CREATE INDEX store_documents_seq ON {schema}.store_documents (seq);
CREATE TABLE {schema}.store_head (
    one boolean PRIMARY KEY DEFAULT true CHECK (one),
    seq bigint NOT NULL,
    guarded bigint NOT NULL,
    floor bigint NOT NULL
);
INSERT INTO {schema}.store_head (seq, guarded, floor) VALUES (0, 0, 0);
"""),
    Migration(2, "instances' heartbeats (what share of app-wide limits each instance takes)", """
CREATE TABLE {schema}.store_instances (
    id text PRIMARY KEY,
    seen_at timestamptz NOT NULL DEFAULT now()
);
"""),
    Migration(3, "claims on documents (work one instance does, e.g. a notification's send), beside them", """
CREATE TABLE {schema}.store_claims (
    tbl text NOT NULL,
    id text NOT NULL,
    owner text NOT NULL,
    base_seq bigint NOT NULL,
    doc json NOT NULL,
    claimed_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tbl, id)
);
"""),
    Migration(4, "the version of the data the documents hold (upgraded at start, see schema_versions)", """
CREATE TABLE {schema}.store_data_version (
    one boolean PRIMARY KEY DEFAULT true CHECK (one),
    version integer NOT NULL
);
"""),
)
