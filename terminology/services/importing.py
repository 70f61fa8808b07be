"""The import pipeline: read, validate, store in one transaction, compare with the
previous version.

Validation is columnar: each batch is checked as it arrives (empty and
duplicate codes), and the whole-file checks (unknown parents, hierarchy
cycles) run on compact frames of codes before the transaction commits, so a
bad file never lands.
"""

from __future__ import annotations

import dataclasses
import hashlib
import queue
import re
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from pathlib import Path
from typing import Any

import polars as pl
import sqlalchemy as sa

from terminology.backends import Backends
from terminology.batches import conform
from terminology.errors import (
    DuplicateCodeError,
    HierarchyCycleError,
    InvalidImportOptionError,
    SourceFileError,
    UnknownParentError,
    VersionConflictError,
)
from terminology.file_limits import LONGEST_CODE, LONGEST_FIELD
from terminology.importers.base import Importer, ImportSource, ProgressCallback, no_progress
from terminology.models import CodeSystemMetadata, HierarchySummary, ImportOutcome, ImportReport
from terminology.roots import HierarchyCheck, check_hierarchy


def checksum_of(files: Iterable[Path], options: str) -> str:
    """SHA-256 over the source files and the options that shaped the reading."""
    digest = hashlib.sha256(options.encode())
    for path in sorted(files):
        digest.update(path.name.encode())
        with path.open("rb") as handle:
            while chunk := handle.read(1 << 20):
                digest.update(chunk)
    return digest.hexdigest()


CODE_CONTROLS = r"[\x00-\x1f\x7f]"
TEXT_CONTROLS = r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]"
"""Control characters a name may not hold: all but tab, line feed and carriage return."""


def _any_designation(test: pl.Expr) -> pl.Expr:
    """Whether any of a row's designation values passes ``test`` (on ``pl.element()``)."""
    return pl.col("designations").list.eval(pl.element().struct.field("value")).list.eval(test).list.any()


def _first_bad_designation(designations: list[dict[str, Any]] | None) -> str:
    """The first designation value holding a control character or over the length bound."""
    for entry in designations or []:
        value = str(entry.get("value") or "")
        if len(value) > LONGEST_FIELD or re.search(TEXT_CONTROLS, value):
            return value
    return ""


def _where(row: dict[str, Any]) -> dict[str, Any]:
    """Location keywords for an error, from a row holding ``line`` and ``where``."""
    return {"line": row.get("line"), "element": row.get("where")}


class BatchCheck:
    """Checks codes batch by batch and keeps what the whole-file checks need."""

    def __init__(self, path: Path, *, drop_unknown_parents: bool = False) -> None:
        self.path = path
        self.drop_unknown_parents = drop_unknown_parents
        self.dropped_links = 0
        self.dropped = pl.DataFrame(schema={"code": pl.String, "parent": pl.String})
        """The links to parents the file never defines (``code``, ``parent``), when dropped."""
        self.chapters: list[pl.DataFrame] = []
        self.without_display = 0
        """Concepts stored without any display (the file gives them no label at all)."""
        self.seen: list[pl.DataFrame] = []
        self.links: list[pl.DataFrame] = []
        self.count = 0

    def admit(self, batch: pl.DataFrame) -> None:
        """Refuse empty codes and codes repeated within the batch; remember codes (with their
        place in the file) and parent links for :meth:`verify`."""
        empty = batch.filter(pl.col("code").is_null() | (pl.col("code").str.strip_chars() == ""))
        if empty.height:
            raise SourceFileError(self.path, "empty code", field="code", **_where(empty.row(0, named=True)))
        self.refuse_unprintable(batch)
        located = batch.select("code", "line", "where").with_row_index("ordinal", offset=self.count)
        self.seen.append(located)
        self.count += batch.height
        self.without_display += batch.filter(
            pl.col("display").is_null() | (pl.col("display").str.strip_chars() == "")
        ).height
        self.refuse_duplicates(located)
        parents = batch.get_column("parents").list.unique(maintain_order=True).alias("parent")
        links = (
            located.select("ordinal", pl.col("code").alias("child"), parents)
            .explode("parent")
            .drop_nulls("parent")
        )
        self.links.append(links)
        kind = pl.col("properties").str.json_path_match("$.kind").str.to_lowercase()
        self.chapters.append(batch.filter(kind == "chapter").select("code"))

    def refuse_unprintable(self, batch: pl.DataFrame) -> None:
        """Refuse, at the row and field, a code longer than :data:`LONGEST_CODE` or holding a
        control character, and a display holding one (tab and line breaks aside) or longer
        than :data:`LONGEST_FIELD`: stored as read, an ESC in a code or a NUL in a name would
        reach every export and every FHIR answer."""
        checks = (
            ("code", pl.col("code").str.len_chars() > LONGEST_CODE, f"longer than {LONGEST_CODE} characters"),
            ("code", pl.col("code").str.contains(CODE_CONTROLS), "holds a control character"),
            ("display", pl.col("display").str.contains(TEXT_CONTROLS), "holds a control character"),
            (
                "display",
                pl.col("display").str.len_chars() > LONGEST_FIELD,
                f"longer than {LONGEST_FIELD:,} characters",
            ),
            (
                "designation",
                _any_designation(pl.element().str.contains(TEXT_CONTROLS)),
                "holds a control character",
            ),
            (
                "designation",
                _any_designation(pl.element().str.len_chars() > LONGEST_FIELD),
                f"longer than {LONGEST_FIELD:,} characters",
            ),
        )
        for field, bad, why in checks:
            found = batch.filter(bad.fill_null(False))
            if found.height:
                row = found.row(0, named=True)
                value = row[field] if field != "designation" else _first_bad_designation(row["designations"])
                shown = str(value)[:40].encode("unicode_escape").decode("ascii")
                raise SourceFileError(self.path, f"{shown!r}… {why}", field=field, **_where(row))

    def chapter_codes(self) -> pl.DataFrame | None:
        """The codes the file calls chapters (a ``kind`` property), or None if it names none."""
        chapters = pl.concat(self.chapters) if self.chapters else pl.DataFrame(schema={"code": pl.String})
        return chapters if chapters.height else None

    def hierarchy_check(self, kept: pl.DataFrame) -> HierarchyCheck:
        """Missing parents, concepts cut from their root and orphan roots, once verified."""
        codes = pl.concat(self.seen).select("code")
        return check_hierarchy(codes, kept.rename({"child": "code"}), self.dropped, self.chapter_codes())

    def refuse_duplicates(self, codes: pl.DataFrame | None = None) -> None:
        """Raise for the first code that appears twice, naming both lines; by default over
        every code admitted so far (one pass, done once, rather than per batch)."""
        if codes is None:
            codes = pl.concat(self.seen) if self.seen else pl.DataFrame({"code": []})
        repeated = codes.filter(pl.col("code").is_duplicated())
        if repeated.height:
            second = repeated.filter(pl.col("code").is_first_distinct().not_()).row(0, named=True)
            first = repeated.filter(pl.col("code") == second["code"]).row(0, named=True)
            at = f" (first at line {first['line']})" if first.get("line") else ""
            raise DuplicateCodeError(
                self.path, f"duplicate code {second['code']!r}{at}", field="code", **_where(second)
            )

    def all_links(self) -> pl.DataFrame:
        """Every (child, parent) link read so far, checked or not."""
        if len(self.links) > 1:
            self.links = [pl.concat(self.links)]
        return self.links[0].select("child", "parent")

    def verify(self) -> pl.DataFrame:
        """No code twice, every parent defined, no loop in parent links; returns the links
        (without those to unknown parents when they are to be dropped)."""
        self.refuse_duplicates()
        codes = pl.concat(self.seen)
        self.all_links()
        links = self.links[0]
        if links.is_empty():
            return links.select("child", "parent")
        ranked = links.join(
            codes.select(pl.col("code").alias("parent"), pl.col("ordinal").alias("parent_ordinal")),
            on="parent",
            how="left",
        )
        unknown = ranked.filter(pl.col("parent_ordinal").is_null())
        if unknown.height and not self.drop_unknown_parents:
            child, parent = unknown.row(0, named=True)["child"], unknown.row(0, named=True)["parent"]
            row = codes.filter(pl.col("code") == child).row(0, named=True)
            raise UnknownParentError(
                self.path,
                f"concept {child!r} names parent {parent!r}, which is not defined",
                field="parent",
                **_where(row),
            )
        self.dropped_links = unknown.height
        self.dropped = unknown.select(pl.col("child").alias("code"), "parent")
        ranked = ranked.drop_nulls("parent_ordinal")
        # A parent that always precedes its child rules out cycles without walking the graph
        # (the usual order of real code lists); otherwise look for one.
        if not bool((ranked.get_column("parent_ordinal") < ranked.get_column("ordinal")).all()):
            self._refuse_cycles(codes, ranked)
        return ranked.select("child", "parent")

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


class BackgroundWriter:
    """Runs database work in order on a second thread while the next batch is read.

    Database drivers and polars both release the GIL for their heavy work, so
    on two cores reading and writing overlap. Only this thread touches the
    connection until the block ends; an error is raised in the caller.
    """

    def __init__(self, depth: int = 2) -> None:
        self._queue: queue.Queue[Callable[[], object] | None] = queue.Queue(maxsize=depth)
        self._error: BaseException | None = None
        self._cancelled = False
        self._thread = threading.Thread(target=self._run, name="concordance-writer", daemon=True)

    def _run(self) -> None:
        while (task := self._queue.get()) is not None:
            if self._error is None and not self._cancelled:
                try:
                    task()
                except BaseException as error:  # handed to the caller's thread
                    self._error = error

    def put(self, task: Callable[[], object]) -> None:
        if self._error is not None:
            raise self._error
        self._queue.put(task)

    def __enter__(self) -> BackgroundWriter:
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
    store: Backends,
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
    shaping = importer.format_name + importer.options.model_dump_json()
    with ThreadPoolExecutor(max_workers=1) as pool:
        # Hash a single-file source while the importer opens it (both release the GIL).
        early = pool.submit(checksum_of, [path], shaping) if path.is_file() else None
        source = importer.open(path, progress)
        same_files = early is not None and source.files == [path]
        checksum = early.result() if early is not None and same_files else checksum_of(source.files, shaping)
    given = (overrides or CodeSystemMetadata()).model_dump(exclude={"status"})
    metadata = source.metadata.overridden(**given)
    invented = [
        f"no url given and {path.name} names none: stored as {default_url(path)} (give --url to name it)"
    ] * (metadata.url is None)
    invented += [
        f"no version given and {path.name} names none: stored as {checksum[:12]}, from its content"
        " (give --version to name it)"
    ] * (metadata.version is None)
    metadata = metadata.overridden(
        url=metadata.url or default_url(path), version=metadata.version or checksum[:12]
    )
    assert metadata.url is not None and metadata.version is not None
    source.notes.extend(invented)

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
    store: Backends,
    importer: Importer,
    source: ImportSource,
    path: Path,
    metadata: CodeSystemMetadata,
    checksum: str,
    started: float,
) -> ImportReport:
    check = BatchCheck(path, drop_unknown_parents=importer.options.unknown_parents == "drop")
    languages: set[str] = {metadata.language} if metadata.language else set()
    try:
        with store.begin_import(
            metadata, source_format=importer.format_name, source_name=path.name, checksum=checksum
        ) as transaction:
            with BackgroundWriter() as writer:
                for raw in source.batches:
                    batch = conform(raw)
                    check.admit(batch)
                    languages |= _languages_in(batch)
                    writer.put(partial(transaction.send, transaction.prepare_batch(batch)))
                if check.count == 0:
                    raise SourceFileError(path, "no concepts found")
                writer.put(partial(transaction.build_keys, "concept", "designation"))
                if check.drop_unknown_parents:
                    links = check.verify()
                    writer.put(partial(transaction.send, transaction.prepare_hierarchy(links)))
                else:
                    # The links are written as read while verify() runs beside the write;
                    # if it fails, the transaction rolls back and nothing is kept.
                    links = check.all_links()
                    writer.put(partial(transaction.send, transaction.prepare_hierarchy(links)))
                    check.verify()
                hierarchy = check.hierarchy_check(links)
                writer.put(partial(transaction.build_keys, "hierarchy_edge"))
            system = transaction.finish(languages, primary=metadata.language)
            designation_count, edge_count = transaction.designation_count, transaction.edge_count
    except sa.exc.IntegrityError:
        check.refuse_duplicates()  # SQLite met a repeated code before verify did: say which
        raise
    store.refresh_statistics()
    previous = store.previous_version(system)
    changes = store.changes_between(previous, system) if previous else None
    return ImportReport(
        outcome=ImportOutcome.CREATED,
        code_system=system,
        designation_count=designation_count,
        edge_count=edge_count,
        dropped_parent_links=check.dropped_links,
        concepts_without_display=check.without_display,
        hierarchy=hierarchy_summary(hierarchy),
        notes=tuple(source.notes),
        previous_version=previous.version if previous else None,
        changes=changes,
        seconds=time.perf_counter() - started,
    )


def hierarchy_summary(check: HierarchyCheck) -> HierarchySummary:
    """The import report's record of what the hierarchy check found."""
    return HierarchySummary(**dataclasses.asdict(check), warnings=tuple(check.warnings()))


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
