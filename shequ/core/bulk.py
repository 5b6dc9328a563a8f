"""Fast multi-row inserts and updates for bulk loads (demo population, imports)."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from itertools import islice
from typing import Any

from django.db import connection, models
from django.db.models.expressions import RawSQL

ROWS_PER_STATEMENT = 250
ROWS_PER_COPY = 20_000


class FastInsert:
    """Many rows of one model into its table; returns the new primary keys in order.

    `bulk_create` spends about 7 µs a value in Django's SQL compiler and 60 µs building each
    model instance, which is most of the time of a million-resident load. This writes tuples,
    converting only the values that need it through the field itself (so encrypted fields are
    encrypted exactly as on a normal save).

    SQLite: `INSERT … VALUES (…), (…) RETURNING id`, relying on RETURNING order as
    `bulk_create` does. PostgreSQL: the keys are drawn from the table's sequence first and the
    rows, keys included, are streamed with COPY, several times faster than INSERT for
    hundreds of thousands of rows. Rows may come from a generator: they are consumed in chunks,
    so a million of them never sit in memory at once.

    Columns named in `prepared` take values already converted with `prepare` (a caller that
    writes the same JSON document on many rows converts it once).
    """

    def __init__(
        self,
        model: type[models.Model],
        columns: Sequence[str],
        *,
        now: dt.datetime,
        prepared: Iterable[str] = (),
    ):
        meta = model._meta
        fields: list[Any] = [meta.get_field(name) for name in columns]
        own = {f.name for f in meta.get_fields()}
        stamps = [f for f in ("created_at", "updated_at") if f not in columns and f in own]
        ready = set(prepared)
        self.copy = connection.vendor == "postgresql"
        self.fields = dict(zip(columns, fields, strict=True))
        self.converters: list[Callable[[Any], Any] | None] = [
            None if name in ready else converter(f, copy=self.copy)
            for name, f in zip(columns, fields, strict=True)
        ]
        # Only the columns that convert are visited per row (most values go as they are).
        self.converting = [(i, c) for i, c in enumerate(self.converters) if c is not None]
        stamp_fields: list[Any] = [meta.get_field(name) for name in stamps]
        self.suffix = tuple(f.get_db_prep_save(now, connection) for f in stamp_fields)
        qn = connection.ops.quote_name
        self.table, self.pk_column = str(meta.db_table), str(meta.pk.column)
        names = [qn(str(f.column)) for f in [*fields, *stamp_fields]]
        self.width = len(names)
        self.arity = len(fields)  # values per row the caller gives
        # Table and column names come from the model's meta, quoted; values are parameters.
        self.head = f"INSERT INTO {qn(self.table)} ({', '.join(names)}) VALUES "  # noqa: S608
        self.row = "(" + ", ".join(["%s"] * self.width) + ")"
        self.tail = f" RETURNING {qn(self.pk_column)}"
        self.copy_sql = (
            f"COPY {qn(self.table)} ({qn(self.pk_column)}, {', '.join(names)}) FROM STDIN"
        )
        # Statements of a few hundred rows: longer ones are no faster, and SQLite caches the
        # compiled form of every distinct statement, which for thousands of rows is megabytes.
        self.per_statement = max(1, min(ROWS_PER_STATEMENT, _max_params() // self.width))

    def prepare(self, column: str, value: Any) -> Any:
        """`value` as the database takes it in `column` (for columns named in `prepared`)."""
        convert = converter(self.fields[column], copy=self.copy)
        return value if convert is None else convert(value)

    def insert(self, rows: Iterable[Sequence[Any]], *, count: int | None = None) -> list[int]:
        """Write `rows`; `count`, when the caller knows how many there are, lets PostgreSQL
        take the rows in one COPY as they are made, so that making them (often the caller's
        own per-row work) overlaps with the database's (a ValueError if it was wrong)."""
        if self.copy:
            return self._copy(rows) if count is None else self._copy_counted(rows, count)
        pks: list[int] = []
        suffix = self.suffix
        with connection.cursor() as cursor:
            for chunk in _chunked(rows, self.per_statement):
                params: list[Any] = []
                for row in chunk:
                    params.extend(self._values(row))
                    params.extend(suffix)
                sql = self.head + ", ".join([self.row] * len(chunk)) + self.tail
                cursor.execute(sql, params)
                pks.extend(r[0] for r in cursor.fetchall())
        if count is not None and len(pks) != count:
            raise ValueError(f"{len(pks)} rows written, {count} counted")
        return pks

    def _values(self, row: Sequence[Any]) -> list[Any]:
        if len(row) != self.arity:
            raise ValueError(f"{len(row)} values for {self.arity} columns")
        values = list(row)
        for i, convert in self.converting:
            values[i] = convert(values[i])
        return values

    def _copy(self, rows: Iterable[Sequence[Any]]) -> list[int]:
        pks: list[int] = []
        with connection.cursor() as cursor:
            sequence = self._sequence(cursor)
            for chunk in _chunked(rows, ROWS_PER_COPY):
                keys = self._keys(cursor, sequence, len(chunk))
                self._copy_rows(cursor, keys, chunk)
                pks.extend(keys)
        return pks

    def _copy_counted(self, rows: Iterable[Sequence[Any]], count: int) -> list[int]:
        if not count:
            if next(iter(rows), None) is not None:
                raise ValueError("more rows than counted")
            return []
        with connection.cursor() as cursor:
            keys = self._keys(cursor, self._sequence(cursor), count)
            self._copy_rows(cursor, keys, rows)
        return keys

    def _sequence(self, cursor: Any) -> str:
        cursor.execute("SELECT pg_get_serial_sequence(%s, %s)", [self.table, self.pk_column])
        return str(cursor.fetchone()[0])

    def _keys(self, cursor: Any, sequence: str, count: int) -> list[int]:
        cursor.execute("SELECT nextval(%s) FROM generate_series(1, %s)", [sequence, count])
        return [r[0] for r in cursor.fetchall()]

    def _copy_rows(self, cursor: Any, keys: list[int], rows: Iterable[Sequence[Any]]) -> None:
        suffix = self.suffix
        values = self._values
        raw: Any = cursor.cursor  # psycopg's own cursor, for COPY
        with raw.copy(self.copy_sql) as copy:
            write = copy.write_row
            for pk, row in zip(keys, rows, strict=True):
                write((pk, *values(row), *suffix))


def fast_update(
    model: type[models.Model],
    columns: Sequence[str],
    rows: Iterable[Sequence[Any]],
    *,
    also: str = "",
    params: Sequence[Any] = (),
) -> None:
    """`UPDATE … SET column = value, … WHERE pk = …` for many rows of one model.

    Each row holds the values of `columns` followed by the primary key. `also` adds the same
    assignments to every row (SQL with `%s` for `params`; qualify the model's own columns with
    its table name). Values are converted like FastInsert's.

    Django's bulk_update builds one CASE expression over every row and field, which is slow
    and memory-hungry for tens of thousands of rows. SQLite: one prepared statement, executed
    for many rows. PostgreSQL: the rows are copied into a temporary table and applied by one
    `UPDATE … FROM` (one statement parsed and planned instead of one per row).
    """
    meta = model._meta
    qn = connection.ops.quote_name
    table, pk = qn(str(meta.db_table)), qn(str(meta.pk.column))
    targets: list[Any] = [meta.get_field(name) for name in columns]
    names = [qn(str(f.column)) for f in targets]
    postgres = connection.vendor == "postgresql"
    converting = [
        (i, c) for i, f in enumerate(targets) if (c := converter(f, copy=postgres)) is not None
    ]
    extra = f", {also}" if also else ""

    def prepared(row: Sequence[Any]) -> list[Any]:
        values = list(row)
        for i, convert in converting:
            values[i] = convert(values[i])
        return values

    with connection.cursor() as cursor:
        if not postgres:
            assignments = ", ".join(f"{n} = %s" for n in names)
            sql = f"UPDATE {table} SET {assignments}{extra} WHERE {pk} = %s"  # noqa: S608
            for chunk in _chunked(rows, 2000):
                cursor.executemany(sql, [[*prepared(r[:-1]), *params, r[-1]] for r in chunk])
            return
        # A temporary table shaped like the columns (their types read off the table itself).
        cursor.execute("DROP TABLE IF EXISTS shequ_fast_update")
        cursor.execute(
            f"CREATE TEMPORARY TABLE shequ_fast_update AS SELECT {', '.join(names)}, "  # noqa: S608
            f"{pk} AS shequ_pk FROM {table} WITH NO DATA"
        )
        raw: Any = cursor.cursor
        with raw.copy(f"COPY shequ_fast_update ({', '.join(names)}, shequ_pk) FROM STDIN") as copy:
            for row in rows:
                copy.write_row((*prepared(row[:-1]), row[-1]))
        assignments = ", ".join(f"{n} = shequ_fast_update.{n}" for n in names)
        cursor.execute(
            f"UPDATE {table} SET {assignments}{extra} FROM shequ_fast_update "  # noqa: S608
            f"WHERE {table}.{pk} = shequ_fast_update.shequ_pk",
            list(params),
        )
        cursor.execute("DROP TABLE shequ_fast_update")


def values_in(values: Iterable[str | int], *, cast: str = "") -> RawSQL:
    """A subquery of `values`, for `filter(column__in=values_in(...))` with thousands of them.

    One parameter (a JSON array) instead of one per value: Django prepares each value of an
    `__in` list one by one, and SQLite caps the parameters of a statement. `cast`: the SQL
    type PostgreSQL compares the values as (`date`, `bigint`); SQLite compares JSON texts and
    numbers as they are.
    """
    array = json.dumps(list(values), ensure_ascii=False)
    if connection.vendor == "sqlite":
        return RawSQL("SELECT value FROM json_each(%s)", [array])
    if cast and not cast.isidentifier():
        raise ValueError(f"not a type name: {cast!r}")
    suffix = f"::{cast}" if cast else ""
    # The only text put into the SQL is a type name checked above; the values are a parameter.
    return RawSQL(f"SELECT jsonb_array_elements_text(%s::jsonb){suffix}", [array])  # noqa: S611


@contextmanager
def loading(cache_mib: int = 256) -> Iterator[None]:
    """Database settings for a bulk load inside a transaction.

    SQLite: a page cache of `cache_mib` MiB instead of 2 MiB. Rows of a large load land all
    over a table's indexes (blind indexes are random), so with the default nearly every row
    reads and, once the cache spills, rewrites index pages through the WAL; held in memory,
    each page is written once at commit. Memory is only taken as pages are touched; the cache
    shrinks back afterwards. PostgreSQL: memory for sorts, hash joins and GIN pending lists
    (`SET LOCAL`: it ends with the transaction).
    """
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL work_mem = '64MB'")
        yield
        return
    if connection.vendor != "sqlite":
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA cache_size")
        before = int(cursor.fetchone()[0])
        cursor.execute(f"PRAGMA cache_size = {-int(cache_mib) * 1024}")
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute(f"PRAGMA cache_size = {before}")


def _chunked(rows: Iterable[Sequence[Any]], size: int) -> Iterator[list[Sequence[Any]]]:
    it = iter(rows)
    while chunk := list(islice(it, size)):
        yield chunk


def converter(f: Any, *, copy: bool = False) -> Callable[[Any], Any] | None:
    """How a Python value of field `f` becomes a query parameter; None: it goes as it is.

    Equivalent to `f.get_db_prep_save(value, connection)` for the values bulk loads write,
    with the cheap cases short-cut: that call chain costs more than encrypting a value.
    `copy`: for PostgreSQL's COPY, which reads JSON from its text like any other value.
    """
    from shequ.core.crypto import EncryptedTextField

    if isinstance(f, EncryptedTextField):
        return f.get_prep_value  # encrypts; the database takes the ciphertext as text
    if isinstance(
        f,
        models.ForeignKey
        | models.CharField
        | models.IntegerField
        | models.FloatField
        | models.BooleanField,
    ):
        return None
    ops = connection.ops
    if type(f) is models.DateField:
        return ops.adapt_datefield_value
    if isinstance(f, models.JSONField):
        encoder = f.encoder

        def json_value(value: Any) -> Any:
            if value is None:
                return None
            return json.dumps(value, cls=encoder) if copy else ops.adapt_json_value(value, encoder)

        return json_value

    def convert(value: Any) -> Any:
        return f.get_db_prep_save(value, connection)

    return convert


def _max_params() -> int:
    if connection.vendor == "sqlite":
        import sqlite3

        connection.ensure_connection()
        raw: Any = connection.connection
        return int(raw.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER))
    return 65_535 if connection.vendor == "postgresql" else 999
