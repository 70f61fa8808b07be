"""How the command line shows things: tables, import reports and progress bars."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Literal

from rich.console import Console
from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    TextColumn,
    TimeRemainingColumn,
    TransferSpeedColumn,
)
from rich.table import Table

from terminology.importers.base import ProgressCallback
from terminology.models import CodeSystem, Concept, ImportOutcome, ImportReport
from terminology.services.code_systems import RootsReport


def console() -> Console:
    """A console on the current stdout, so tests capturing stdout see the output."""
    wide = None if sys.stdout.isatty() else 200
    return Console(highlight=False, width=wide)


def systems_table(code_systems: list[CodeSystem]) -> Table:
    table = Table(title="Code systems", title_justify="left")
    table.add_column("url", no_wrap=True)
    table.add_column("version", no_wrap=True)
    table.add_column("concepts", justify="right")
    table.add_column("languages")
    table.add_column("format")
    table.add_column("imported at (UTC)")
    for system in code_systems:
        table.add_row(
            system.url,
            system.version,
            f"{system.concept_count:,}",
            ", ".join(system.languages) or "—",
            system.source_format,
            system.imported_at.strftime("%Y-%m-%d %H:%M"),
        )
    return table


def roots_table(report: RootsReport) -> Table:
    """A version's roots, chapters first, with how many concepts hang from each."""
    table = Table(title=f"{report.system.reference} — {len(report.roots):,} roots", title_justify="left")
    table.add_column("code", no_wrap=True)
    table.add_column("display")
    table.add_column("concepts", justify="right")
    table.add_column("chapter")
    for root in report.roots:
        chapter = "—" if root.chapter is None else ("yes" if root.chapter else "NO (orphan)")
        table.add_row(root.code, root.display or "", f"{root.concepts:,}", chapter)
    return table


def concepts_table(system: CodeSystem, found: list[Concept]) -> Table:
    table = Table(title=f"{system.reference} — {len(found)} shown", title_justify="left")
    table.add_column("code", no_wrap=True)
    table.add_column("display")
    table.add_column("parents")
    table.add_column("other labels")
    for concept in found:
        others = "; ".join(f"{d.value} ({d.language or '?'}, {d.use})" for d in concept.designations[:3])
        if len(concept.designations) > 3:
            others += f"; +{len(concept.designations) - 3}"
        code = concept.code if concept.active else f"{concept.code} (inactive)"
        table.add_row(code, concept.display or "", ", ".join(concept.parents), others)
    return table


def report_lines(report: ImportReport) -> list[str]:
    """A few lines a terminologist reads after an import."""
    system = report.code_system
    if report.outcome is ImportOutcome.UNCHANGED:
        return [f"{system.reference}: unchanged (identical file already imported)"]
    lines = [
        f"{system.reference}: {system.concept_count:,} concepts, "
        f"{report.designation_count:,} designations, {report.edge_count:,} hierarchy links "
        f"in {report.seconds:.1f} s"
    ]
    lines.extend(f"  WARNING: {warning}" for warning in report.hierarchy.warnings)
    if report.concepts_without_display:
        lines.append(
            f"  note: {report.concepts_without_display:,} concepts have no label at all and are stored "
            "without a display"
        )
    lines.extend(f"  note: {note}" for note in report.notes)
    if report.changes is not None:
        c = report.changes
        lines.append(
            f"  against version {report.previous_version}: {c.added:,} added, "
            f"{c.retired:,} retired, {c.relabelled:,} relabelled, {c.moved:,} moved in the hierarchy"
        )
        for label, examples in (
            ("added", c.examples_added),
            ("retired", c.examples_retired),
            ("relabelled", c.examples_relabelled),
            ("moved", c.examples_moved),
        ):
            if examples:
                lines.append(f"    {label}: {', '.join(examples)}{' …' if len(examples) >= 10 else ''}")
    return lines


@contextmanager
def progress_bar(
    description: str, total: int, *, enabled: bool, unit: Literal["bytes", "items"] = "bytes"
) -> Iterator[ProgressCallback]:
    """A progress bar on stderr over bytes of source files or a count of items; the
    callback it yields is what importers and the matcher call as they advance."""
    if not enabled:
        yield lambda _: None
        return
    amount = (
        [DownloadColumn(), TransferSpeedColumn()]
        if unit == "bytes"
        else [TextColumn("{task.completed:,}/{task.total:,}")]
    )
    bar = Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        *amount,
        TimeRemainingColumn(),
        console=Console(stderr=True),
        transient=True,
    )
    with bar:
        task = bar.add_task(description, total=total or None)
        yield lambda advance: bar.advance(task, advance)
