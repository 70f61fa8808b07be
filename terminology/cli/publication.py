"""``concordance publish`` and ``concordance conceptmaps``: versions that interfaces read."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from terminology.backends import Backends
from terminology.cli.store import open_store
from terminology.records import Project
from terminology.services.concept_maps import get_concept_map, search_concept_maps
from terminology.services.projects import find_project

maps_app = typer.Typer(help="Published ConceptMap versions.", no_args_is_help=True)


def _store() -> Backends:
    return open_store()


def publish_command(
    project: Annotated[str, typer.Argument(help="Project name or number.")],
    status: Annotated[
        str | None,
        typer.Option(help="draft, active or retired (default: draft; active must be asked for)."),
    ] = None,
    publisher: Annotated[str, typer.Option()] = "Concordance",
    url: Annotated[str | None, typer.Option(help="Canonical URL (default: from the project name).")] = None,
) -> None:
    """Publish the project's accepted decisions as a new ConceptMap version."""
    from terminology.services.concept_maps import publish_project

    store = _store()
    found = find_project(store, project)
    undecided = _undecided_warning(store, found)
    if undecided:
        typer.echo(undecided, err=True)
    chosen = status or "draft"
    if status is None:
        typer.echo("published as draft: interfaces serve it only when asked; give --status active", err=True)
    stored = publish_project(store, found, status=chosen, publisher=publisher, url=url)
    elements = sum(len(group.get("element", [])) for group in stored.resource.get("group", []))
    typer.echo(f"ConceptMap/{stored.id} {stored.url}|{stored.version} ({stored.status}): {elements} elements")


def _undecided_warning(store: Backends, project: Project) -> str | None:
    """What a publisher should know before an interface reads the map: how many rows are
    not accepted (they are left out of it)."""
    from terminology.review.workflow import Status
    from terminology.services.queue import progress

    counts, _ = progress(store, project)
    total = sum(counts[status.value] for status in Status)
    accepted = counts[Status.ACCEPTED.value]
    if accepted == total:
        return None
    return (
        f"warning: {accepted:,} of {total:,} rows are accepted ({100 * accepted / max(total, 1):.1f} %);"
        f" the {total - accepted:,} others are not in this map"
    )


@maps_app.command("import")
def import_maps(
    files: Annotated[
        list[Path], typer.Argument(help="FHIR ConceptMap JSON (R4 or R5) or SSSOM TSV (.tsv) files.")
    ],
    status: Annotated[str | None, typer.Option(help="Override the status (e.g. active).")] = None,
    version: Annotated[
        str | None, typer.Option(help="Version of an SSSOM set that has no mapping_set_version.")
    ] = None,
) -> None:
    """Serve existing ConceptMaps (e.g. national tables) beside published ones."""
    from terminology.services.concept_maps import import_map_file

    store = _store()
    for path in files:
        stored, new = import_map_file(store, path, status=status, version=version)
        typer.echo(f"ConceptMap/{stored.id} {stored.url}|{stored.version}{'' if new else ' (unchanged)'}")


@maps_app.command("export")
def export_map(
    map_id: Annotated[int, typer.Argument(help="ConceptMap id.")],
    format_name: Annotated[str, typer.Option("--format", help="fhir, sssom or csv.")] = "fhir",
    out: Annotated[Path | None, typer.Option("--out", help="File (default: standard output).")] = None,
) -> None:
    """Write a ConceptMap version as FHIR JSON, SSSOM TSV or CSV."""
    from terminology.exporters import exporter

    _, export = exporter(format_name)
    text = export(get_concept_map(_store(), map_id).as_served())
    if out is None:
        typer.echo(text, nl=False)
    else:
        out.write_text(text, encoding="utf-8")


@maps_app.command("diff")
def diff_command(
    old_id: Annotated[int, typer.Argument(help="The older ConceptMap id.")],
    new_id: Annotated[int, typer.Argument(help="The newer ConceptMap id.")],
) -> None:
    """What changed between two versions: added, removed, changed target or equivalence."""
    from terminology.services.concept_maps import diff_versions

    diff = diff_versions(_store(), old_id, new_id)
    for change in diff.changes:
        before = ", ".join(f"{code or '∅'} ({equivalence})" for code, equivalence in change.before) or "—"
        after = ", ".join(f"{code or '∅'} ({equivalence})" for code, equivalence in change.after) or "—"
        typer.echo(f"{change.kind:<8} {change.source_code}: {before} → {after}")
    typer.echo(
        f"{diff.old.url}|{diff.old.version} → {diff.new.version}: "
        + ", ".join(f"{n} {k}" for k, n in diff.counts.items())
    )


@maps_app.command("impact")
def impact_command(
    map_id: Annotated[int, typer.Argument(help="ConceptMap id.")],
    target: Annotated[str, typer.Option(metavar="URL|VERSION", help="The new version of the target system.")],
) -> None:
    """Which mappings a new target version breaks (target gone, inactive or relabelled)."""
    from terminology.services.concept_maps import release_impact

    store = _store()
    url, _, version = target.partition("|")
    stored = get_concept_map(store, map_id)
    impacted = release_impact(store, stored.resource, store.code_system(url, version or None))
    for item in impacted:
        typer.echo(f"{item.source_code} → {item.reason}")
    typer.echo(f"{stored.url}|{stored.version}: {len(impacted)} mappings to review against {target}")


@maps_app.command("list")
def list_maps() -> None:
    """Every stored version."""
    for stored in search_concept_maps(_store()):
        typer.echo(f"ConceptMap/{stored.id}\t{stored.url}|{stored.version}\t{stored.status}")


@maps_app.command("status")
def change_status(
    map_id: Annotated[int, typer.Argument(help="ConceptMap id.")],
    status: Annotated[str, typer.Argument(help="active or retired.")],
) -> None:
    """Move a version along draft → active → retired."""
    from terminology.services.concept_maps import change_status

    stored = change_status(_store(), map_id, status)
    typer.echo(f"ConceptMap/{stored.id} {stored.url}|{stored.version}: {stored.status}")
