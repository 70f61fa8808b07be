"""``concordance valuesets``: stored ValueSets that ``$expand`` and ``$validate-code`` serve by url."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from terminology.cli.store import open_store

value_sets_app = typer.Typer(help="Stored ValueSet versions.", no_args_is_help=True)


@value_sets_app.command("import")
def import_value_sets(
    files: Annotated[list[Path], typer.Argument(help="FHIR ValueSet JSON files (R4).")],
    status: Annotated[str | None, typer.Option(help="Override the status (draft, active, retired).")] = None,
    version: Annotated[str | None, typer.Option(help="Version of a value set whose file has none.")] = None,
) -> None:
    """Store value sets (a national list, a project's scope) so that interfaces expand and
    validate against them by url. A draft may be imported again with changes; an active
    version's content is fixed."""
    from terminology.services.value_sets import import_value_set_file

    store = open_store()
    for path in files:
        stored, changed = import_value_set_file(store, path, status=status, version=version)
        state = f"{stored.status}, r{stored.revision}" + ("" if changed else ", unchanged")
        typer.echo(f"ValueSet/{stored.id} {stored.url}|{stored.version} ({state})")


@value_sets_app.command("list")
def list_value_sets() -> None:
    """Every stored version."""
    from terminology.services.value_sets import search_value_sets

    for stored in search_value_sets(open_store()):
        typer.echo(
            f"ValueSet/{stored.id}\t{stored.url}|{stored.version}\t{stored.status}\tr{stored.revision}"
        )
