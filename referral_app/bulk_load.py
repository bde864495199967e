"""Writing many rows fast, for `flask bench-seed` (referral_app/benchseed.py):
COPY on PostgreSQL, large executemany batches on SQLite, and the big
tables' secondary indexes dropped for the load and built again after it."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from sqlalchemy import text

from referral_app.extensions import db


def _rows_to_copy(rows: Iterable[Sequence[Any]]) -> Iterator[str]:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    for count, row in enumerate(rows, 1):
        writer.writerow(["\\N" if value is None else value for value in row])
        if count % 5000 == 0:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


def write(table: str, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> int:
    connection = db.session.connection()
    if connection.dialect.name == "postgresql":
        raw = connection.connection.driver_connection
        count = 0
        with raw.cursor() as cursor:  # type: ignore[union-attr]
            sql = f"COPY {table} ({', '.join(columns)}) FROM STDIN WITH (FORMAT csv, NULL '\\N')"
            with cursor.copy(sql) as copy:
                for chunk in _rows_to_copy(rows):
                    copy.write(chunk)
            count = cursor.rowcount
        return int(count)
    placeholders = ", ".join(f":{name}" for name in columns)
    statement = text(f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({placeholders})")
    batch: list[dict[str, Any]] = []
    total = 0
    for row in rows:
        batch.append(dict(zip(columns, row, strict=True)))
        if len(batch) >= 10000:
            connection.execute(statement, batch)
            total += len(batch)
            batch = []
    if batch:
        connection.execute(statement, batch)
        total += len(batch)
    return total


# The big tables: on PostgreSQL their secondary indexes are dropped for the
# load and built afterwards, several times faster than keeping each up to
# date row by row (the trigram indexes most of all).
BULK_TABLES = ("child", "referral", "status_change", "note", "share")


@contextmanager
def indexes_built_after() -> Iterator[None]:
    connection = db.session.connection()
    if connection.dialect.name != "postgresql":
        yield
        return
    indexes = connection.execute(
        text(
            "SELECT c.relname, pg_get_indexdef(i.indexrelid) FROM pg_index i "
            "JOIN pg_class c ON c.oid = i.indexrelid "
            "WHERE i.indrelid::regclass::text = ANY(:tables) "
            "AND NOT i.indisprimary AND NOT i.indisunique"
        ),
        {"tables": list(BULK_TABLES)},
    ).all()
    for name, _ in indexes:
        connection.execute(text(f'DROP INDEX "{name}"'))
    yield
    connection.execute(text("SET LOCAL maintenance_work_mem = '512MB'"))
    for _, definition in indexes:
        connection.execute(text(definition))
