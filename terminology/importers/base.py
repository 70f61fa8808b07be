"""What every importer shares: options, streaming file access and progress."""

from __future__ import annotations

import csv
import io
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, ClassVar, Literal

import polars as pl
from pydantic import BaseModel, ConfigDict, ValidationError

from terminology.batches import batches_of
from terminology.errors import InvalidImportOptionError, SourceFileError
from terminology.models import CodeSystemMetadata, ConceptRecord

ProgressCallback = Callable[[int], None]
"""Called with the number of source bytes consumed since the last call."""


def no_progress(_: int) -> None:
    """The progress callback used when nobody watches."""


class ImportOptions(BaseModel):
    """Base of every importer's options; unknown options are errors, not ignored.

    ``unknown_parents=drop`` keeps concepts whose parent the file never defines
    (a subset, or an extract missing some blocks) and drops just those links;
    the import report counts them.
    """

    model_config = ConfigDict(frozen=True, extra="forbid", use_attribute_docstrings=True)

    unknown_parents: Literal["error", "drop"] = "error"
    """A parent the file never defines: refuse the file, or drop just that link."""


@dataclass
class ImportSource:
    """An opened source: its metadata, its files and a one-shot stream of concept batches.

    Record-based importers build it with :meth:`from_records`; columnar ones
    pass polars batches directly.
    """

    metadata: CodeSystemMetadata
    files: list[Path]
    batches: Iterator[pl.DataFrame]
    extra: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    """What was skipped and why, for the import report."""

    @classmethod
    def from_records(
        cls, metadata: CodeSystemMetadata, files: list[Path], records: Iterator[ConceptRecord]
    ) -> ImportSource:
        return cls(metadata, files, batches_of(records))


class Importer(ABC):
    """One source format. Subclasses live one per module and register by name."""

    format_name: ClassVar[str]
    summary: ClassVar[str]
    options_model: ClassVar[type[ImportOptions]] = ImportOptions

    def __init__(self, options: ImportOptions | None = None) -> None:
        self.options = options if options is not None else self.options_model()

    @classmethod
    def with_options(cls, raw: dict[str, Any]) -> Importer:
        """Build from ``key=value`` strings, rejecting unknown or ill-typed options."""
        try:
            return cls(cls.options_model.model_validate(raw))
        except ValidationError as error:
            problems = "; ".join(
                f"{'.'.join(str(p) for p in item['loc']) or 'options'}: {item['msg']}"
                for item in error.errors()
            )
            raise InvalidImportOptionError(f"format {cls.format_name!r}: {problems}") from error

    @abstractmethod
    def open(self, path: Path, progress: ProgressCallback = no_progress) -> ImportSource:
        """Open ``path`` for reading; records are produced lazily by the returned source."""


class CountingReader(io.RawIOBase):
    """A binary stream that reports every byte read, so any parser shows progress."""

    def __init__(self, raw: IO[bytes], progress: ProgressCallback) -> None:
        self._raw = raw
        self._progress = progress

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        data = self._raw.read(len(buffer))
        size = len(data)
        buffer[:size] = data
        if size:
            self._progress(size)
        return size

    def close(self) -> None:
        self._raw.close()
        super().close()


def open_counted(path: Path, progress: ProgressCallback) -> io.BufferedReader:
    """Open a file in binary mode behind a byte counter."""
    return io.BufferedReader(CountingReader(path.open("rb"), progress), buffer_size=1 << 20)


def open_text(path: Path, encoding: str, progress: ProgressCallback) -> io.TextIOWrapper:
    """Open a text file behind a byte counter, decoding strictly so bad bytes are reported."""
    return io.TextIOWrapper(open_counted(path, progress), encoding=encoding, errors="strict", newline="")


def comma_list(value: Any) -> Any:
    """Let a list option come as ``a,b,c`` from the command line (a pydantic before-validator).

    >>> comma_list("fr, en,")
    ['fr', 'en']
    """
    return [part.strip() for part in value.split(",") if part.strip()] if isinstance(value, str) else value


def dict_rows(
    path: Path,
    required: Sequence[str],
    progress: ProgressCallback,
    *,
    kind: str,
    delimiter: str = ",",
    quoting: Literal[0, 1, 2, 3] = csv.QUOTE_MINIMAL,
) -> Iterator[tuple[int, dict[str, str]]]:
    """Rows of a UTF-8 table by column name, with the line each ends on; a missing column,
    a row of the wrong width or a bad byte is an error naming the file and line."""
    try:
        with open_text(path, "utf-8-sig", progress) as handle:
            reader = csv.DictReader(handle, delimiter=delimiter, quoting=quoting)
            header = reader.fieldnames or []
            missing = [column for column in required if column not in header]
            if missing:
                raise SourceFileError(
                    path, f"missing {kind} column(s) {', '.join(missing)}", line=1, field=missing[0]
                )
            for row in reader:
                if None in row or any(value is None for value in row.values()):
                    raise SourceFileError(
                        path,
                        f"expected {len(header)} fields (truncated or misquoted row?)",
                        line=reader.line_num,
                    )
                yield reader.line_num, row
    except UnicodeDecodeError as error:
        raise line_of_decode_error(path, "utf-8", error) from error
    except csv.Error as error:
        raise SourceFileError(path, f"malformed {kind} file: {error}") from error


def require_file(path: Path, *, folder: bool = False) -> Path:
    """Fail early, with the path, when a source file does not exist, or is a folder where
    the format reads one file (``folder=True``: a release folder is what it reads)."""
    if not path.exists():
        raise SourceFileError(path, "no such file or directory")
    if path.is_dir() and not folder:
        raise SourceFileError(path, "is a folder; this format reads one file: give the file's path")
    return path


def total_size(paths: list[Path]) -> int:
    return sum(p.stat().st_size for p in paths)


def line_of_decode_error(path: Path, encoding: str, error: UnicodeDecodeError) -> SourceFileError:
    """Turn a decoding failure into an error naming the line, found by rereading the bytes."""
    line = 1
    with path.open("rb") as handle:
        for number, raw_line in enumerate(handle, start=1):
            try:
                raw_line.decode(encoding)
            except UnicodeDecodeError:
                line = number
                break
    return SourceFileError(
        path,
        f"not valid {encoding} text ({error.reason}); "
        "give the right encoding with -o encoding=cp1252 (or latin-1)",
        line=line,
    )
