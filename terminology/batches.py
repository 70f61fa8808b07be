"""Concept batches: the columnar form every import goes through.

Importers either stream :class:`~terminology.models.ConceptRecord` tuples
(converted here, a few thousand at a time) or build batches directly with
polars when speed matters (large local lists). Validation and storage only
ever see batches, so both paths share every check.

Columns: ``code``, ``display``, ``definition`` (str), ``active`` (bool),
``properties`` (JSON object text), ``parents`` (list of str),
``designations`` (list of {language, use, value}), ``line`` (int).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Sequence
from itertools import islice

import polars as pl

from terminology.models import ConceptRecord

DESIGNATION_TYPE = pl.Struct({"language": pl.String, "use": pl.String, "value": pl.String})
BATCH_SCHEMA: dict[str, pl.DataType] = {
    "code": pl.String(),
    "display": pl.String(),
    "definition": pl.String(),
    "active": pl.Boolean(),
    "properties": pl.String(),
    "parents": pl.List(pl.String),
    "designations": pl.List(DESIGNATION_TYPE),
    "line": pl.Int64(),
    "where": pl.String(),
}


def records_to_batch(records: Sequence[ConceptRecord]) -> pl.DataFrame:
    """Columnar form of a list of records."""
    return pl.DataFrame(
        {
            "code": [r.code for r in records],
            "display": [r.display for r in records],
            "definition": [r.definition for r in records],
            "active": [r.active for r in records],
            "properties": [
                json.dumps(r.properties, ensure_ascii=False) if r.properties else None for r in records
            ],
            "parents": [list(r.parents) for r in records],
            "designations": [
                [{"language": d.language, "use": str(d.use), "value": d.value} for d in r.designations]
                for r in records
            ],
            "line": [r.line for r in records],
            "where": [r.where for r in records],
        },
        schema=BATCH_SCHEMA,
    )


def batches_of(records: Iterable[ConceptRecord], size: int = 20_000) -> Iterator[pl.DataFrame]:
    """Group a record stream into batches."""
    iterator = iter(records)
    while chunk := list(islice(iterator, size)):
        yield records_to_batch(chunk)


def conform(batch: pl.DataFrame) -> pl.DataFrame:
    """Add missing columns as nulls and order columns as :data:`BATCH_SCHEMA` says."""
    columns = [
        pl.col(name).cast(dtype) if name in batch.columns else pl.lit(None, dtype=dtype).alias(name)
        for name, dtype in BATCH_SCHEMA.items()
    ]
    return batch.select(columns)


def json_string(expr: pl.Expr) -> pl.Expr:
    """A JSON string literal of each value (vectorised ``json.dumps`` for strings)."""
    escaped = (
        expr.str.replace_all("\\", "\\\\", literal=True)
        .str.replace_all('"', '\\"', literal=True)
        .str.replace_all("\n", "\\n", literal=True)
        .str.replace_all("\r", "\\r", literal=True)
        .str.replace_all("\t", "\\t", literal=True)
        .str.replace_all(r"[\x00-\x1f]", " ")
    )
    return pl.lit('"') + escaped + pl.lit('"')


def json_object(columns: Sequence[tuple[str, str]]) -> pl.Expr:
    """A JSON object per row of the named columns, leaving out empty values.

    ``columns`` pairs a property name with the frame column holding its value.
    """
    if not columns:
        return pl.lit(None, dtype=pl.String)
    members = [
        pl.when(pl.col(column).is_not_null() & (pl.col(column) != ""))
        .then(pl.lit(json.dumps(name, ensure_ascii=False) + ":") + json_string(pl.col(column)))
        .otherwise(None)
        for name, column in columns
    ]
    body = pl.concat_str(members, separator=",", ignore_nulls=True)
    return pl.when(body != "").then(pl.lit("{") + body + pl.lit("}")).otherwise(None)


def json_array(expr: pl.Expr) -> pl.Expr:
    """A JSON array of a list-of-strings column; empty lists become null."""
    items = expr.list.eval(json_string(pl.element())).list.join(",")
    return pl.when(expr.list.len() > 0).then(pl.lit("[") + items + pl.lit("]")).otherwise(None)
