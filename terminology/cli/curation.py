"""``concordance users`` and ``concordance members``: who may curate which project."""

from __future__ import annotations

from typing import Annotated

import typer

from terminology.review.workflow import Role
from terminology.storage import curation
from terminology.storage.store import SqlStore

users_app = typer.Typer(help="People and interfaces that call the API.", no_args_is_help=True)
members_app = typer.Typer(help="Roles in mapping projects.", no_args_is_help=True)


def _store() -> SqlStore:
    from terminology.cli.main import open_store

    return open_store()


@users_app.command("add")
def add_user(name: Annotated[str, typer.Argument(help="A unique name, e.g. an e-mail address.")]) -> None:
    """Create a user and print their bearer token (shown once; only its hash is kept)."""
    user, token = curation.create_user(_store(), name)
    typer.echo(f"{user.name}\t{token}")


@members_app.command("add")
def add_member(
    project: Annotated[str, typer.Argument(help="Project name or number.")],
    user: Annotated[str, typer.Argument(help="User name.")],
    role: Annotated[Role, typer.Argument(help="viewer, author, reviewer, reconciler or admin.")],
) -> None:
    """Give a user a role in a project (replacing the role they had)."""
    store = _store()
    found = curation.get_project(store, int(project) if project.isdigit() else project)
    curation.add_member(store, found, curation.find_user(store, user), role)
    typer.echo(f"{user} is {role.value} in {found.name!r}")
