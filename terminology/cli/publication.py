"""``concordance publish`` and ``concordance conceptmaps``: versions that interfaces read."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from terminology.storage import conceptmaps, curation
from terminology.storage.store import SqlStore

maps_app = typer.Typer(help="Published ConceptMap versions.", no_args_is_help=True)


def _store() -> SqlStore:
    from terminology.cli.main import open_store

    return open_store()


def publish_command(
    project: Annotated[str, typer.Argument(help="Project name or number.")],
    status: Annotated[str, typer.Option(help="draft, active or retired.")] = "active",
    publisher: Annotated[str, typer.Option()] = "Concordance",
    url: Annotated[str | None, typer.Option(help="Canonical URL (default: from the project name).")] = None,
) -> None:
    """Publish the project's accepted decisions as a new ConceptMap version."""
    from terminology.publication.publish import publish

    store = _store()
    found = curation.get_project(store, int(project) if project.isdigit() else project)
    stored = publish(store, found, status=status, publisher=publisher, url=url)
    elements = sum(len(group.get("element", [])) for group in stored.resource.get("group", []))
    typer.echo(f"ConceptMap/{stored.id} {stored.url}|{stored.version} ({stored.status}): {elements} elements")


@maps_app.command("import")
def import_maps(
    files: Annotated[list[Path], typer.Argument(help="FHIR ConceptMap JSON files (R4 or R5).")],
    status: Annotated[str | None, typer.Option(help="Override the status (e.g. active).")] = None,
) -> None:
    """Serve existing ConceptMaps (e.g. national tables) beside published ones."""
    store = _store()
    for path in files:
        try:
            resource = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as error:
            raise typer.BadParameter(f"{path}: not a JSON file ({error})") from error
        if status:
            resource["status"] = status
        stored, new = conceptmaps.save_concept_map(store, resource)
        typer.echo(f"ConceptMap/{stored.id} {stored.url}|{stored.version}{'' if new else ' (unchanged)'}")


@maps_app.command("list")
def list_maps() -> None:
    """Every stored version."""
    for stored in conceptmaps.search_concept_maps(_store()):
        typer.echo(f"ConceptMap/{stored.id}\t{stored.url}|{stored.version}\t{stored.status}")


@maps_app.command("status")
def change_status(
    map_id: Annotated[int, typer.Argument(help="ConceptMap id.")],
    status: Annotated[str, typer.Argument(help="active or retired.")],
) -> None:
    """Move a version along draft → active → retired."""
    stored = conceptmaps.set_status(_store(), map_id, status)
    typer.echo(f"ConceptMap/{stored.id} {stored.url}|{stored.version}: {stored.status}")
