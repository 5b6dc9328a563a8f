"""Substring search of addresses without reading every row (issue #3).

PostgreSQL: pg_trgm GIN indexes, which serve `LIKE '%fragment%'` for three characters or more.
SQLite: FTS5 tables with the trigram tokenizer over the same columns, filled now and kept up to
date by triggers (external content: the text itself stays in the register's tables).

Indexed: every dwelling's standard address, and the address as reported of people who have no
dwelling (for everybody else the dwelling's standard address is their address).

Triggers belong to their table: a later migration that makes SQLite rebuild registry_person or
registry_dwelling (Django copies the table into a new one) drops them, and
test_search.py::test_the_sqlite_search_tables_have_their_triggers fails until they are made again.
"""

import sqlite3

from django.db import migrations

SQLITE_FORWARD = [
    # Dwellings: all of them.
    """CREATE VIRTUAL TABLE registry_dwelling_address_fts USING fts5(
        standard_address, content='registry_dwelling', content_rowid='id', tokenize='trigram'
    )""",
    "INSERT INTO registry_dwelling_address_fts(registry_dwelling_address_fts) VALUES ('rebuild')",
    """CREATE TRIGGER registry_dwelling_address_fts_insert AFTER INSERT ON registry_dwelling
    BEGIN
        INSERT INTO registry_dwelling_address_fts(rowid, standard_address)
        VALUES (new.id, new.standard_address);
    END""",
    """CREATE TRIGGER registry_dwelling_address_fts_delete AFTER DELETE ON registry_dwelling
    BEGIN
        INSERT INTO registry_dwelling_address_fts(registry_dwelling_address_fts, rowid, standard_address)
        VALUES ('delete', old.id, old.standard_address);
    END""",
    """CREATE TRIGGER registry_dwelling_address_fts_update
    AFTER UPDATE OF standard_address ON registry_dwelling
    WHEN old.standard_address IS NOT new.standard_address
    BEGIN
        INSERT INTO registry_dwelling_address_fts(registry_dwelling_address_fts, rowid, standard_address)
        VALUES ('delete', old.id, old.standard_address);
        INSERT INTO registry_dwelling_address_fts(rowid, standard_address)
        VALUES (new.id, new.standard_address);
    END""",
    # People: only those without a dwelling and with an address as reported. Never 'rebuild'
    # this table (that would index everybody); the conditions below are its definition.
    """CREATE VIRTUAL TABLE registry_person_unresolved_fts USING fts5(
        address_raw, content='registry_person', content_rowid='id', tokenize='trigram'
    )""",
    """INSERT INTO registry_person_unresolved_fts(rowid, address_raw)
    SELECT id, address_raw FROM registry_person WHERE dwelling_id IS NULL AND address_raw <> ''""",
    """CREATE TRIGGER registry_person_unresolved_fts_insert AFTER INSERT ON registry_person
    WHEN new.dwelling_id IS NULL AND new.address_raw <> ''
    BEGIN
        INSERT INTO registry_person_unresolved_fts(rowid, address_raw)
        VALUES (new.id, new.address_raw);
    END""",
    """CREATE TRIGGER registry_person_unresolved_fts_delete AFTER DELETE ON registry_person
    WHEN old.dwelling_id IS NULL AND old.address_raw <> ''
    BEGIN
        INSERT INTO registry_person_unresolved_fts(registry_person_unresolved_fts, rowid, address_raw)
        VALUES ('delete', old.id, old.address_raw);
    END""",
    """CREATE TRIGGER registry_person_unresolved_fts_update
    AFTER UPDATE OF dwelling_id, address_raw ON registry_person
    WHEN old.dwelling_id IS NOT new.dwelling_id OR old.address_raw IS NOT new.address_raw
    BEGIN
        INSERT INTO registry_person_unresolved_fts(registry_person_unresolved_fts, rowid, address_raw)
        SELECT 'delete', old.id, old.address_raw
        WHERE old.dwelling_id IS NULL AND old.address_raw <> '';
        INSERT INTO registry_person_unresolved_fts(rowid, address_raw)
        SELECT new.id, new.address_raw
        WHERE new.dwelling_id IS NULL AND new.address_raw <> '';
    END""",
]

SQLITE_BACKWARD = [
    "DROP TRIGGER IF EXISTS registry_person_unresolved_fts_update",
    "DROP TRIGGER IF EXISTS registry_person_unresolved_fts_delete",
    "DROP TRIGGER IF EXISTS registry_person_unresolved_fts_insert",
    "DROP TABLE IF EXISTS registry_person_unresolved_fts",
    "DROP TRIGGER IF EXISTS registry_dwelling_address_fts_update",
    "DROP TRIGGER IF EXISTS registry_dwelling_address_fts_delete",
    "DROP TRIGGER IF EXISTS registry_dwelling_address_fts_insert",
    "DROP TABLE IF EXISTS registry_dwelling_address_fts",
]

POSTGRES_FORWARD = [
    # A trusted extension since PostgreSQL 13: the database's owner may create it.
    "CREATE EXTENSION IF NOT EXISTS pg_trgm",
    """CREATE INDEX registry_dwelling_address_trgm
    ON registry_dwelling USING gin (standard_address gin_trgm_ops)""",
    """CREATE INDEX registry_person_unresolved_trgm
    ON registry_person USING gin (address_raw gin_trgm_ops) WHERE dwelling_id IS NULL""",
]

POSTGRES_BACKWARD = [
    "DROP INDEX IF EXISTS registry_person_unresolved_trgm",
    "DROP INDEX IF EXISTS registry_dwelling_address_trgm",
]


def _run(schema_editor, statements):
    for sql in statements:
        schema_editor.execute(sql, params=None)


def forwards(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "sqlite":
        if sqlite3.sqlite_version_info < (3, 34):
            raise RuntimeError(
                f"shequ needs SQLite 3.34 or later (FTS5 trigram tokenizer); "
                f"this Python has SQLite {sqlite3.sqlite_version}"
            )
        _run(schema_editor, SQLITE_FORWARD)
    elif vendor == "postgresql":
        _run(schema_editor, POSTGRES_FORWARD)


def backwards(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "sqlite":
        _run(schema_editor, SQLITE_BACKWARD)
    elif vendor == "postgresql":
        _run(schema_editor, POSTGRES_BACKWARD)


class Migration(migrations.Migration):
    dependencies = [("registry", "0004_person_search_indexes")]

    operations = [migrations.RunPython(forwards, backwards, elidable=False)]
