"""Bulk row writers: ``executemany`` for SQLite, ``COPY`` for PostgreSQL.

Both take polars frames and run on the caller's connection, inside its
transaction, so a failed import rolls back whole.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

import polars as pl
from sqlalchemy.engine import Connection


class BulkWriter(Protocol):
    def write(self, table: str, columns: Sequence[str], frame: pl.DataFrame) -> None:
        """Append the frame's rows (columns in ``columns`` order) to a table."""


class ExecutemanyWriter:
    """Prepared-statement batches; the fastest path SQLite offers."""

    def __init__(self, connection: Connection) -> None:
        self._connection = connection

    def write(self, table: str, columns: Sequence[str], frame: pl.DataFrame) -> None:
        """Columns that are entirely null are left to their default, and integer or boolean
        columns holding one value throughout are written as literals: binding fewer
        parameters per row is most of what SQLite's insert speed depends on."""
        if frame.is_empty():
            return
        names: list[str] = []
        values: list[str] = []
        bound: list[str] = []
        for column in columns:
            series = frame.get_column(column)
            if series.null_count() == len(series):
                continue
            names.append(column)
            if (
                series.dtype in (pl.Int64, pl.Int32, pl.Boolean)
                and series.null_count() == 0
                and series.n_unique() == 1
            ):
                values.append(str(int(series[0])))
            else:
                values.append("?")
                bound.append(column)
        sql = f"INSERT INTO {table} ({', '.join(names)}) VALUES ({', '.join(values)})"
        rows = list(zip(*(frame.get_column(c).to_list() for c in bound), strict=True))
        self._connection.exec_driver_sql(sql, rows)


class CopyWriter:
    """PostgreSQL ``COPY ... FROM STDIN (FORMAT csv)`` of CSV text polars writes in Rust.

    polars writes nulls as bare empty fields and empty strings as ``""``,
    which is exactly how PostgreSQL's CSV format tells them apart.
    """

    def __init__(self, connection: Connection) -> None:
        self._driver = connection.connection.driver_connection

    def write(self, table: str, columns: Sequence[str], frame: pl.DataFrame) -> None:
        if frame.is_empty() or self._driver is None:
            return
        payload = frame.select(columns).write_csv(include_header=False).encode("utf-8")
        with (
            self._driver.cursor() as cursor,
            cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN (FORMAT csv)") as copy,
        ):
            copy.write(payload)


def bulk_writer_for(connection: Connection) -> BulkWriter:
    """Pick the fastest writer the connection's database supports."""
    if connection.dialect.name == "postgresql":
        return CopyWriter(connection)
    return ExecutemanyWriter(connection)
