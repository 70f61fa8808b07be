"""Local code lists as CSV, TSV or XLSX — what hospital systems export.

Columns ``code`` and ``display`` are required, ``parent``, ``synonyms``
(``|``-separated) and ``definition`` optional; every other column becomes a
property. Column names, delimiter and encoding are options, because exports
from French hospital systems are often ``;``-separated Windows-1252.
"""

from __future__ import annotations

import csv
import difflib
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, Literal

import numpy as np
import polars as pl
from pydantic import Field, field_validator

from terminology.batches import DESIGNATION_TYPE, json_object
from terminology.errors import SourceFileError
from terminology.importers.base import (
    Importer,
    ImportOptions,
    ImportSource,
    ProgressCallback,
    comma_list,
    line_of_decode_error,
    no_progress,
    open_text,
    require_file,
)
from terminology.models import CodeSystemMetadata, ConceptRecord, Designation, DesignationUse

TRUE_WORDS = frozenset({"1", "true", "yes", "y", "oui", "o", "active", "actif", "vrai"})
csv.field_size_limit(1 << 24)


def _mapping(value: Any) -> dict[str, str]:
    """Accept ``fr=label_fr,en=label_en`` from the command line or a mapping from a manifest."""
    if value is None or isinstance(value, dict):
        return value or {}
    pairs = [part for part in str(value).split(",") if part.strip()]
    result: dict[str, str] = {}
    for pair in pairs:
        key, sep, column = pair.partition("=")
        if not sep:
            raise ValueError(f"expected key=column, got {pair!r}")
        result[key.strip()] = column.strip()
    return result


class TabularOptions(ImportOptions):
    """Options of the ``csv`` format (``-o name=value`` on the command line)."""

    delimiter: str | None = None
    """Field separator (tab, comma, semicolon, pipe or a character); guessed when not given."""
    encoding: str = "utf-8-sig"
    """Text encoding of the file (e.g. latin-1)."""
    sheet: str | None = None
    """The worksheet of an XLSX file; the first by default."""
    code_column: str = "code"
    """Column holding the code."""
    display_column: str = "display"
    """Column holding the display label."""
    parent_column: str = "parent"
    """Column holding the parent's code (hierarchy)."""
    synonyms_column: str = "synonyms"
    """Column holding synonyms, split on the separator."""
    definition_column: str = "definition"
    """Column holding a definition."""
    active_column: str | None = None
    """Column saying whether a code is active (true/false, 1/0, oui/non)."""
    separator: str = "|"
    """Separator of several values in one cell (synonyms)."""
    key_column: str | None = None
    """Column of a stable key that parents refer to, when it is not the code."""
    missing_code: Literal["error", "use-key", "skip"] = "error"
    """A row without a code: refuse the file, use its key as code, or skip the row."""
    language_columns: dict[str, str] = Field(default_factory=dict)
    """Labels in other languages, as language=column pairs (e.g. en=label_en)."""
    where: dict[str, str] = Field(default_factory=dict)
    """Import only the rows where column=value (e.g. system=loinc)."""
    ignore_columns: list[str] = Field(default_factory=list)
    """Columns not kept as properties (comma-separated)."""

    _mapping_fields = field_validator("language_columns", "where", mode="before")(_mapping)
    _list_fields = field_validator("ignore_columns", mode="before")(comma_list)

    @field_validator("delimiter", mode="before")
    @classmethod
    def _named_delimiter(cls, value: Any) -> Any:
        names = {"tab": "\t", "\\t": "\t", "comma": ",", "semicolon": ";", "pipe": "|"}
        return names.get(value, value) if isinstance(value, str) else value


class _Layout:
    """Which column index plays which role, resolved once from the header."""

    def __init__(self, path: Path, header: Sequence[str], options: TabularOptions) -> None:
        self.path = path
        self.header = [name.strip() for name in header]
        self.options = options
        self.code = self.required(options.code_column, "code_column")
        self.display = self.required(options.display_column, "display_column")
        self.parent = self.optional(options.parent_column)
        self.synonyms = self.optional(options.synonyms_column)
        self.definition = self.optional(options.definition_column)
        self.active = self.required(options.active_column, "active_column") if options.active_column else None
        self.key = self.required(options.key_column, "key_column") if options.key_column else None
        self.labels = [
            (language, self.required(column, "language_columns"))
            for language, column in options.language_columns.items()
        ]
        self.filters = [(self.required(c, "where"), v) for c, v in options.where.items()]
        used = {
            self.code,
            self.display,
            self.parent,
            self.synonyms,
            self.definition,
            self.active,
            self.key,
        }
        used |= {index for _, index in self.labels}
        ignored = set(options.ignore_columns)
        self.properties = [
            (i, name) for i, name in enumerate(self.header) if i not in used and name and name not in ignored
        ]

    def optional(self, name: str) -> int | None:
        return self.header.index(name) if name in self.header else None

    def required(self, name: str, option: str) -> int:
        if name in self.header:
            return self.header.index(name)
        close = difflib.get_close_matches(name, self.header, n=1)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        raise SourceFileError(
            self.path,
            f"missing column {name!r} (columns are: {', '.join(self.header)}){hint} "
            f"— rename it, or name the right one with -o {option}=...",
            line=1,
            field=name,
        )


class TabularImporter(Importer):
    format_name = "csv"
    summary = "Local code lists: CSV, TSV or XLSX with code, display, parent, synonyms, definition"
    options_model = TabularOptions
    options: TabularOptions

    def open(self, path: Path, progress: ProgressCallback = no_progress) -> ImportSource:
        require_file(path)
        metadata = CodeSystemMetadata(name=path.stem, title=path.stem)
        fast = self._fast_reader(path)
        if fast is not None:
            return ImportSource(metadata, [path], fast.batches(progress))
        return ImportSource.from_records(metadata, [path], self._records(path, progress))

    def _fast_reader(self, path: Path) -> ColumnarCsv | None:
        """The columnar reader, when the file is UTF-8 text whose rows all have the header's
        number of fields; anything unusual takes the record path, which reports exact lines."""
        if path.suffix.lower() in {".xlsx", ".xlsm"}:
            return None
        if self.options.encoding.lower().replace("_", "-") not in {"utf-8", "utf-8-sig", "utf8"}:
            return None
        with path.open("r", encoding="utf-8", errors="replace", newline="") as peek:
            delimiter = self.options.delimiter or _sniff_delimiter(path, peek.read(65536))
        lines = uniform_line_count(path, delimiter)
        if lines is None:
            return None
        return ColumnarCsv(path, self.options, delimiter, lines)

    def _records(self, path: Path, progress: ProgressCallback) -> Iterator[ConceptRecord]:
        code_of_key: dict[str, str] | None = None
        if self.options.key_column:
            code_of_key = self._codes_by_key(path, progress)
        layout, rows = self._rows(path, progress)
        yield from self._to_records(path, layout, rows, code_of_key)

    def _rows(
        self, path: Path, progress: ProgressCallback
    ) -> tuple[_Layout, Iterator[tuple[int, list[str]]]]:
        if path.suffix.lower() in {".xlsx", ".xlsm"}:
            rows = _xlsx_rows(path, self.options.sheet, progress)
        else:
            rows = _text_rows(path, self.options, progress)
        try:
            _, header = next(rows)
        except StopIteration:
            raise SourceFileError(path, "empty file: no header row", line=1) from None
        return _Layout(path, header, self.options), rows

    def _codes_by_key(self, path: Path, progress: ProgressCallback) -> dict[str, str]:
        layout, rows = self._rows(path, progress)
        assert layout.key is not None
        mapping: dict[str, str] = {}
        for _, row in rows:
            if len(row) == len(layout.header):
                key = row[layout.key].strip()
                mapping[key] = row[layout.code].strip() or key
        return mapping

    def _to_records(
        self,
        path: Path,
        layout: _Layout,
        rows: Iterator[tuple[int, list[str]]],
        code_of_key: dict[str, str] | None,
    ) -> Iterator[ConceptRecord]:
        options = self.options
        width = len(layout.header)
        language = None  # display language is the code system's; designations name theirs
        sep = options.separator
        for line, row in rows:
            if len(row) != width:
                if not any(cell.strip() for cell in row):
                    continue
                raise SourceFileError(
                    path,
                    f"{len(row)} fields where the header has {width} (truncated or misquoted row?)",
                    line=line,
                )
            if layout.filters and any(row[i].strip() != v for i, v in layout.filters):
                continue
            code = row[layout.code].strip()
            if not code:
                if options.missing_code == "skip":
                    continue
                if options.missing_code == "use-key" and layout.key is not None:
                    code = row[layout.key].strip()
                if not code:
                    raise SourceFileError(path, "empty code", line=line, field=options.code_column)
            display = row[layout.display].strip() or None
            parents: tuple[str, ...] = ()
            if layout.parent is not None and (raw := row[layout.parent].strip()):
                parents = tuple(p.strip() for p in raw.split(sep) if p.strip())
                if code_of_key is not None:
                    parents = tuple(code_of_key.get(p, p) for p in parents)
            designations: tuple[Designation, ...] = ()
            if layout.synonyms is not None and (raw := row[layout.synonyms].strip()):
                designations = tuple(
                    Designation(language, DesignationUse.SYNONYM, s.strip())
                    for s in raw.split(sep)
                    if s.strip()
                )
            if layout.labels:
                designations += tuple(
                    Designation(lang, DesignationUse.PREFERRED, row[i].strip())
                    for lang, i in layout.labels
                    if row[i].strip()
                )
            if display is None and designations:
                display = designations[0].value
            properties = {name: row[i].strip() for i, name in layout.properties if row[i].strip()} or None
            yield ConceptRecord(
                code,
                display,
                row[layout.definition].strip() or None if layout.definition is not None else None,
                row[layout.active].strip().lower() in TRUE_WORDS if layout.active is not None else True,
                properties,
                designations,
                parents,
                line,
            )


class ColumnarCsv:
    """Reads a well-formed UTF-8 list with polars, a batch of rows at a time, in Rust."""

    BATCH_ROWS = 100_000

    def __init__(self, path: Path, options: TabularOptions, delimiter: str, lines: int) -> None:
        self.path = path
        self.options = options
        self.delimiter = delimiter
        self.lines = max(lines, 1)

    def _scan(self) -> pl.LazyFrame:
        return pl.scan_csv(
            self.path, separator=self.delimiter, infer_schema=False, quote_char='"', encoding="utf8"
        )

    def batches(self, progress: ProgressCallback) -> Iterator[pl.DataFrame]:
        try:
            header = self._scan().collect_schema().names()
            layout = _Layout(self.path, header, self.options)
            code_of_key = self._codes_by_key(layout) if layout.key is not None else None
            size = self.path.stat().st_size
            frame = self._scan().with_row_index("row").rename({n: n.strip() for n in header})
            for chunk in frame.collect_batches(chunk_size=self.BATCH_ROWS):
                progress(size * chunk.height // self.lines)
                yield self._to_batch(chunk, layout, code_of_key)
        except pl.exceptions.ComputeError as error:
            if "utf-8" in str(error).lower():
                raise line_of_decode_error(
                    self.path,
                    "utf-8",
                    UnicodeDecodeError("utf-8", b"", 0, 1, "invalid utf-8 sequence"),
                ) from error
            raise SourceFileError(self.path, f"malformed CSV: {str(error).splitlines()[0]}") from error

    def _codes_by_key(self, layout: _Layout) -> pl.DataFrame:
        key, code = layout.header[layout.key or 0], layout.header[layout.code]
        frame = self._scan().select(_clean(key).alias("key"), _clean(code).alias("code")).collect()
        return frame.select("key", pl.coalesce("code", "key").alias("code")).unique("key")

    def _to_batch(
        self, chunk: pl.DataFrame, layout: _Layout, code_of_key: pl.DataFrame | None
    ) -> pl.DataFrame:
        options, names = self.options, layout.header
        cells = chunk.select(pl.col("row"), *[_clean(name) for name in names if name])
        cells = cells.filter(pl.any_horizontal(pl.col(n).is_not_null() for n in names if n))
        for index, value in layout.filters:
            cells = cells.filter(pl.col(names[index]) == value)
        code = pl.col(names[layout.code])
        if options.missing_code == "skip":
            cells = cells.filter(code.is_not_null())
        elif options.missing_code == "use-key" and layout.key is not None:
            code = pl.coalesce(code, pl.col(names[layout.key]))
        sep = options.separator

        def split(index: int) -> pl.Expr:
            return (
                pl.col(names[index])
                .str.split(sep)
                .list.eval(pl.element().str.strip_chars().filter(pl.element() != ""))
                .fill_null([])
            )

        parents = split(layout.parent) if layout.parent is not None else pl.lit([], dtype=pl.List(pl.String))
        if code_of_key is not None:
            mapping = dict(
                zip(
                    code_of_key.get_column("key").to_list(),
                    code_of_key.get_column("code").to_list(),
                    strict=True,
                )
            )
            parents = parents.list.eval(pl.element().replace(mapping))
        labels: list[pl.Expr] = []
        if layout.synonyms is not None:
            labels.append(
                split(layout.synonyms).list.eval(
                    pl.struct(
                        pl.lit(None, dtype=pl.String).alias("language"),
                        pl.lit("synonym").alias("use"),
                        pl.element().alias("value"),
                    )
                )
            )
        for language, index in layout.labels:
            column = pl.col(names[index])
            one = pl.struct(
                pl.lit(language).alias("language"),
                pl.lit("preferred").alias("use"),
                column.alias("value"),
            )
            labels.append(
                pl.when(column.is_not_null())
                .then(pl.concat_list(one))
                .otherwise(pl.lit([], dtype=pl.List(DESIGNATION_TYPE)))
            )
        designations = pl.concat_list(labels) if labels else pl.lit([], dtype=pl.List(DESIGNATION_TYPE))
        display = pl.col(names[layout.display])
        active = (
            pl.col(names[layout.active]).str.to_lowercase().is_in(list(TRUE_WORDS)).fill_null(False)
            if layout.active is not None
            else pl.lit(True)
        )
        return cells.select(
            code.alias("code"),
            display.alias("display"),
            (
                pl.col(names[layout.definition])
                if layout.definition is not None
                else pl.lit(None, dtype=pl.String)
            ).alias("definition"),
            active.alias("active"),
            json_object([(name, name) for _, name in layout.properties]).alias("properties"),
            parents.alias("parents"),
            designations.alias("designations"),
            (pl.col("row") + 2).alias("line"),
        ).with_columns(
            pl.coalesce("display", pl.col("designations").list.first().struct.field("value")).alias("display")
        )


def _clean(name: str) -> pl.Expr:
    stripped = pl.col(name).str.strip_chars()
    return pl.when(stripped == "").then(None).otherwise(stripped).alias(name.strip())


def uniform_line_count(path: Path, delimiter: str, *, block: int = 1 << 24) -> int | None:
    """The number of lines when every non-empty line has as many delimiters as the header
    and an even number of quotes; ``None`` when any line does not (a quoted delimiter or
    line break, a short or truncated row), so the careful reader takes over.
    """
    size = path.stat().st_size
    if size == 0:
        return None
    data = np.memmap(path, dtype=np.uint8, mode="r")
    separator, quote, newline = ord(delimiter), ord('"'), ord("\n")
    expected: int | None = None
    lines = 0
    start = 0
    while start < size:
        stop = min(start + block, size)
        window = np.asarray(data[start:stop])
        if stop < size:
            last = int(np.flatnonzero(window == newline)[-1]) if (window == newline).any() else -1
            if last < 0:
                return None
            window = window[: last + 1]
        breaks = np.flatnonzero(window == newline)
        count = len(breaks) + (0 if len(breaks) and breaks[-1] == len(window) - 1 else 1)
        starts = np.concatenate(([0], breaks[: count - 1] + 1))
        lengths = np.diff(np.concatenate((starts, [len(window)])))
        separators = np.bincount(
            np.searchsorted(breaks, np.flatnonzero(window == separator)), minlength=count
        )
        quotes = np.bincount(np.searchsorted(breaks, np.flatnonzero(window == quote)), minlength=count)
        blank = lengths <= 2
        if expected is None:
            expected = int(separators[0])
        if ((separators[:count] != expected) & ~blank).any() or (quotes[:count] % 2).any():
            return None
        lines += count
        start += len(window)
    return lines


def _sniff_delimiter(path: Path, sample: str) -> str:
    if path.suffix.lower() in {".tsv", ".tab"}:
        return "\t"
    first_line = sample.splitlines()[0] if sample else ""
    counts = {d: first_line.count(d) for d in (",", ";", "\t", "|")}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] else ","


def _text_rows(
    path: Path, options: TabularOptions, progress: ProgressCallback
) -> Iterator[tuple[int, list[str]]]:
    """Rows with the number of the line each one ends on; decoding errors name their line."""
    encoding = options.encoding
    try:
        with path.open("r", encoding=encoding, errors="replace", newline="") as peek:
            delimiter = options.delimiter or _sniff_delimiter(path, peek.read(65536))
        with open_text(path, encoding, progress) as handle:
            reader = csv.reader(handle, delimiter=delimiter, strict=True)
            try:
                for row in reader:
                    yield reader.line_num, row
            except csv.Error as error:
                raise SourceFileError(path, f"malformed CSV: {error}", line=reader.line_num) from error
    except UnicodeDecodeError as error:
        raise line_of_decode_error(path, encoding, error) from error
    except LookupError as error:
        raise SourceFileError(path, f"unknown encoding {encoding!r}", field="encoding") from error


def _xlsx_rows(path: Path, sheet: str | None, progress: ProgressCallback) -> Iterator[tuple[int, list[str]]]:
    from openpyxl import load_workbook

    try:
        with path.open("rb") as handle:
            book = load_workbook(handle, read_only=True, data_only=True)
            progress(path.stat().st_size)
            if sheet is not None and sheet not in book.sheetnames:
                raise SourceFileError(
                    path,
                    f"no sheet {sheet!r} (sheets: {', '.join(book.sheetnames)})",
                    field="sheet",
                )
            worksheet = book[sheet] if sheet else book.worksheets[0]
            for number, values in enumerate(worksheet.iter_rows(values_only=True), start=1):
                yield number, [_cell_text(v) for v in values]
            book.close()
    except SourceFileError:
        raise
    except Exception as error:  # openpyxl raises many unrelated types for a damaged workbook
        raise SourceFileError(path, f"not a readable XLSX workbook: {error}") from error


def _cell_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)
