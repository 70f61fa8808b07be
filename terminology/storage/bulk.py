"""Bulk row writers: ``json_each`` for SQLite, ``COPY`` for PostgreSQL.

Writing is split in two so that it can be pipelined: :meth:`prepare` turns a
polars frame into what the driver takes (client work, any thread) and
:meth:`send` hands it to the database on the caller's connection, inside its
transaction, so a failed import rolls back whole.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import polars as pl
from sqlalchemy.engine import Connection


@dataclass(frozen=True)
class PreparedRows:
    """Rows of one table, ready for the driver."""

    table: str
    statement: str
    payload: Any
    count: int


class BulkWriter(Protocol):
    def prepare(self, table: str, columns: Sequence[str], frame: pl.DataFrame) -> PreparedRows:
        """Turn a frame (columns in ``columns`` order) into driver input."""

    def send(self, rows: PreparedRows) -> None:
        """Append prepared rows to their table."""


class JsonEachWriter:
    """SQLite: one statement per batch that expands a JSON array with ``json_each``.

    polars writes the JSON in Rust and SQLite reads it in C, so no Python object
    is made per row and the driver runs the whole batch without the GIL, beside
    the thread that reads the next one.
    """

    def __init__(self, connection: Connection) -> None:
        self._connection = connection

    def prepare(self, table: str, columns: Sequence[str], frame: pl.DataFrame) -> PreparedRows:
        """Columns that are entirely null are left to their default, and integer or boolean
        columns holding one value throughout become literals."""
        names: list[str] = []
        values: list[str] = []
        bound: list[str] = []
        for column in columns:
            series = frame.get_column(column)
            if series.null_count() == len(series):
                continue
            names.append(column)
            constant = series.null_count() == 0 and series.n_unique() == 1
            if series.dtype in (pl.Int64, pl.Int32, pl.Boolean) and constant:
                values.append(str(int(series[0])))
            else:
                values.append(f"value ->> '{column}'")
                bound.append(column)
        statement = f"INSERT INTO {table} ({', '.join(names)}) SELECT {', '.join(values)} FROM json_each(?)"
        payload = frame.select(bound).write_json() if bound else "[" + ",".join(["{}"] * frame.height) + "]"
        return PreparedRows(table, statement, payload, frame.height)

    def send(self, rows: PreparedRows) -> None:
        if rows.count:
            self._connection.exec_driver_sql(rows.statement, (rows.payload,))


class CopyWriter:
    """PostgreSQL ``COPY ... FROM STDIN (FORMAT csv)`` of CSV text polars writes in Rust.

    polars writes nulls as bare empty fields and empty strings as ``""``,
    which is exactly how PostgreSQL's CSV format tells them apart.
    """

    def __init__(self, connection: Connection) -> None:
        self._driver = connection.connection.driver_connection

    def prepare(self, table: str, columns: Sequence[str], frame: pl.DataFrame) -> PreparedRows:
        payload = frame.select(columns).write_csv(include_header=False).encode("utf-8")
        statement = f"COPY {table} ({', '.join(columns)}) FROM STDIN (FORMAT csv)"
        return PreparedRows(table, statement, payload, frame.height)

    def send(self, rows: PreparedRows) -> None:
        if not rows.count or self._driver is None:
            return
        with self._driver.cursor() as cursor, cursor.copy(rows.statement) as copy:
            copy.write(rows.payload)


def bulk_writer_for(connection: Connection) -> BulkWriter:
    """Pick the fastest writer the connection's database supports."""
    if connection.dialect.name == "postgresql":
        return CopyWriter(connection)
    return JsonEachWriter(connection)
