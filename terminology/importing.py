"""The import pipeline: read, validate, store in one transaction, compare with the
previous version.

Validation is columnar: each batch is checked as it arrives (empty and
duplicate codes), and the whole-file checks (unknown parents, hierarchy
cycles) run on compact frames of codes before the transaction commits, so a
bad file never lands.
"""

from __future__ import annotations

import hashlib
import queue
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any, Generic, TypeVar

import polars as pl

from terminology.batches import conform
from terminology.errors import (
    DuplicateCodeError,
    HierarchyCycleError,
    InvalidImportOptionError,
    SourceFileError,
    UnknownParentError,
    VersionConflictError,
)
from terminology.importers.base import Importer, ImportSource, ProgressCallback, no_progress
from terminology.models import CodeSystemMetadata, ImportOutcome, ImportReport
from terminology.storage.store import SqlStore

T = TypeVar("T")


def checksum_of(files: Iterable[Path], options: str) -> str:
    """SHA-256 over the source files and the options that shaped the reading."""
    digest = hashlib.sha256(options.encode())
    for path in sorted(files):
        digest.update(path.name.encode())
        with path.open("rb") as handle:
            while chunk := handle.read(1 << 20):
                digest.update(chunk)
    return digest.hexdigest()


def _where(row: dict[str, Any]) -> dict[str, Any]:
    """Location keywords for an error, from a row holding ``line`` and ``where``."""
    return {"line": row.get("line"), "element": row.get("where")}


class BatchCheck:
    """Checks codes batch by batch and keeps what the whole-file checks need."""

    def __init__(self, path: Path, *, drop_unknown_parents: bool = False) -> None:
        self.path = path
        self.drop_unknown_parents = drop_unknown_parents
        self.dropped_links = 0
        self.seen: list[pl.DataFrame] = []
        self.links: list[pl.DataFrame] = []
        self.count = 0

    def admit(self, batch: pl.DataFrame) -> None:
        """Refuse empty codes and codes seen before; remember codes and parent links."""
        empty = batch.filter(pl.col("code").is_null() | (pl.col("code").str.strip_chars() == ""))
        if empty.height:
            raise SourceFileError(self.path, "empty code", field="code", **_where(empty.row(0, named=True)))
        located = batch.select("code", "line", "where").with_row_index("ordinal", offset=self.count)
        self._refuse_duplicates(located)
        self.seen.append(located)
        self.count += batch.height
        links = batch.select(pl.col("code").alias("child"), pl.col("parents").alias("parent")).explode(
            "parent"
        )
        self.links.append(links.drop_nulls("parent"))

    def _refuse_duplicates(self, located: pl.DataFrame) -> None:
        within = located.filter(pl.col("code").is_duplicated())
        if within.height:
            code = within.get_column("code")[0]
            first, second = within.filter(pl.col("code") == code).head(2).iter_rows(named=True)
            self._duplicate(second, first)
        if self.seen:
            before = pl.concat([frame.select("code", "line", "where") for frame in self.seen])
            again = located.join(before, on="code", how="inner", suffix="_first")
            if again.height:
                row = again.sort("ordinal").row(0, named=True)
                self._duplicate(row, {"line": row["line_first"], "where": row["where_first"]})

    def _duplicate(self, row: dict[str, object], first: dict[str, object]) -> None:
        at = f" (first at line {first['line']})" if first.get("line") else ""
        raise DuplicateCodeError(
            self.path, f"duplicate code {row['code']!r}{at}", field="code", **_where(row)
        )

    def verify(self) -> pl.DataFrame:
        """Every parent must be defined, and parent links must not loop; returns the links."""
        codes = pl.concat(self.seen) if self.seen else pl.DataFrame()
        links = pl.concat(self.links)
        if links.is_empty():
            return links
        unknown = links.join(codes.select(pl.col("code").alias("parent")), on="parent", how="anti")
        if unknown.height and self.drop_unknown_parents:
            self.dropped_links = unknown.height
            links = links.join(unknown, on=["child", "parent"], how="anti")
        elif unknown.height:
            child, parent = unknown.row(0)
            row = codes.filter(pl.col("code") == child).row(0, named=True)
            raise UnknownParentError(
                self.path,
                f"concept {child!r} names parent {parent!r}, which is not defined",
                field="parent",
                **_where(row),
            )
        if not self._parents_come_first(codes, links):
            self._refuse_cycles(codes, links)
        return links

    @staticmethod
    def _parents_come_first(codes: pl.DataFrame, links: pl.DataFrame) -> bool:
        """True when every parent precedes its child in the file, which rules out cycles
        without walking the graph (the usual order of real code lists)."""
        order = codes.select("code", "ordinal")
        ranked = links.join(order.rename({"code": "child"}), on="child").join(
            order.rename({"code": "parent", "ordinal": "parent_ordinal"}), on="parent"
        )
        return bool((ranked.get_column("parent_ordinal") < ranked.get_column("ordinal")).all())

    def _refuse_cycles(self, codes: pl.DataFrame, links: pl.DataFrame) -> None:
        grouped = links.group_by("child", maintain_order=True).agg(pl.col("parent"))
        parents_of = dict(
            zip(
                grouped.get_column("child").to_list(),
                grouped.get_column("parent").to_list(),
                strict=True,
            )
        )
        cycle = find_cycle(parents_of)
        if cycle:
            row = codes.filter(pl.col("code") == cycle[0]).row(0, named=True)
            raise HierarchyCycleError(
                self.path,
                "hierarchy cycle: " + " → ".join([*cycle, cycle[0]]),
                field="parent",
                **_where(row),
            )


class BackgroundWriter(Generic[T]):
    """Stores batch N on a second thread while batch N+1 is read and checked.

    Database drivers and polars both release the GIL for their heavy work, so
    on two cores reading and writing overlap. Only this thread touches the
    connection until the block ends; a write error is raised in the caller.
    """

    def __init__(self, write: Callable[[T], None], depth: int = 2) -> None:
        self._write = write
        self._queue: queue.Queue[T | None] = queue.Queue(maxsize=depth)
        self._error: BaseException | None = None
        self._cancelled = False
        self._thread = threading.Thread(target=self._run, name="concordance-writer", daemon=True)

    def _run(self) -> None:
        while (batch := self._queue.get()) is not None:
            if self._error is None and not self._cancelled:
                try:
                    self._write(batch)
                except BaseException as error:  # handed to the caller's thread
                    self._error = error

    def put(self, batch: T) -> None:
        if self._error is not None:
            raise self._error
        self._queue.put(batch)

    def __enter__(self) -> BackgroundWriter[T]:
        self._thread.start()
        return self

    def __exit__(self, kind: object, error: object, traceback: object) -> None:
        self._cancelled = kind is not None  # the import failed: pending writes are pointless
        self._queue.put(None)
        self._thread.join()
        if self._error is not None and kind is None:
            raise self._error


def find_cycle(parents_of: dict[str, list[str]]) -> list[str] | None:
    """One cycle in the parent graph, or None. Iterative, so deep hierarchies are fine.

    >>> find_cycle({"a": ["b"], "b": ["c"], "c": ["a"]})
    ['a', 'b', 'c']
    >>> find_cycle({"a": ["b"], "b": []}) is None
    True
    """
    done: set[str] = set()
    for root in parents_of:
        if root in done:
            continue
        path = [root]
        on_path = {root: 0}
        stack: list[tuple[str, Iterator[str]]] = [(root, iter(parents_of.get(root, ())))]
        while stack:
            node, pending = stack[-1]
            step = next(pending, None)
            if step is None:
                stack.pop()
                path.pop()
                del on_path[node]
                done.add(node)
            elif step in on_path:
                return path[on_path[step] :]
            elif step not in done:
                on_path[step] = len(path)
                path.append(step)
                stack.append((step, iter(parents_of.get(step, ()))))
    return None


def _languages_in(batch: pl.DataFrame) -> set[str]:
    languages = batch.select(pl.col("designations").explode().struct.field("language")).drop_nulls()
    return set(languages.to_series().unique().to_list())


def default_url(path: Path) -> str:
    """A stable canonical URL for local lists imported without ``--url``."""
    return f"urn:concordance:codesystem:{path.stem.lower()}"


def import_code_system(
    store: SqlStore,
    importer: Importer,
    path: Path,
    *,
    overrides: CodeSystemMetadata | None = None,
    progress: ProgressCallback = no_progress,
) -> ImportReport:
    """Import one source into the store as a new code-system version, whole or not at all.

    Re-importing the same file with the same options returns ``unchanged``;
    the same URL and version from a different file is a :class:`VersionConflictError`.
    """
    started = time.perf_counter()
    source = importer.open(path, progress)
    checksum = checksum_of(source.files, importer.format_name + importer.options.model_dump_json())
    given = (overrides or CodeSystemMetadata()).model_dump(exclude={"status"})
    metadata = source.metadata.overridden(**given)
    metadata = metadata.overridden(
        url=metadata.url or default_url(path), version=metadata.version or checksum[:12]
    )
    assert metadata.url is not None and metadata.version is not None

    existing = store.find_code_system(metadata.url, metadata.version)
    if existing is not None:
        if existing.checksum != checksum:
            raise VersionConflictError(
                f"{existing.reference} is already stored from a different source "
                f"({existing.source_name}); a changed release needs a new --version"
            )
        return ImportReport(
            outcome=ImportOutcome.UNCHANGED,
            code_system=existing,
            seconds=time.perf_counter() - started,
        )
    return _store_new_version(store, importer, source, path, metadata, checksum, started)


def _store_new_version(
    store: SqlStore,
    importer: Importer,
    source: ImportSource,
    path: Path,
    metadata: CodeSystemMetadata,
    checksum: str,
    started: float,
) -> ImportReport:
    check = BatchCheck(path, drop_unknown_parents=importer.options.unknown_parents == "drop")
    languages: set[str] = {metadata.language} if metadata.language else set()
    with store.begin_import(
        metadata, source_format=importer.format_name, source_name=path.name, checksum=checksum
    ) as transaction:
        with BackgroundWriter(transaction.send) as writer:
            for raw in source.batches:
                batch = conform(raw)
                check.admit(batch)
                languages |= _languages_in(batch)
                writer.put(transaction.prepare_batch(batch))
            if check.count == 0:
                raise SourceFileError(path, "no concepts found")
            writer.put(transaction.prepare_hierarchy(check.verify()))
        system = transaction.finish(languages)
        designation_count, edge_count = transaction.designation_count, transaction.edge_count
    previous = store.previous_version(system)
    changes = store.changes_between(previous, system) if previous else None
    return ImportReport(
        outcome=ImportOutcome.CREATED,
        code_system=system,
        designation_count=designation_count,
        edge_count=edge_count,
        dropped_parent_links=check.dropped_links,
        previous_version=previous.version if previous else None,
        changes=changes,
        seconds=time.perf_counter() - started,
    )


def options_from_pairs(pairs: Iterable[str]) -> dict[str, str | list[str]]:
    """Parse ``key=value`` options from the command line; repeated keys make a list.

    >>> options_from_pairs(["delimiter=;", "encoding=cp1252"])
    {'delimiter': ';', 'encoding': 'cp1252'}
    """
    options: dict[str, str | list[str]] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise InvalidImportOptionError(f"option {pair!r} is not of the form key=value")
        key = key.strip().replace("-", "_")
        if key in options:
            current = options[key]
            options[key] = [*current, value] if isinstance(current, list) else [current, value]
        else:
            options[key] = value
    return options
