"""Mapping projects: found by id or name, listed for a user, their review mode, and which
of their rows are decided."""

from __future__ import annotations

from typing import Any, Literal

from terminology.backends import Backends
from terminology.models import CodeSystem
from terminology.records import Project, User
from terminology.review.workflow import Role


def find_project(store: Backends, reference: int | str) -> Project:
    """A project by id or by name (a name made of digits is read as an id)."""
    if isinstance(reference, str) and reference.isdigit():
        reference = int(reference)
    return store.projects.get_project(reference)


def set_review_mode(store: Backends, project: Project, review: Literal["single", "double"]) -> Project:
    """Single review (one reviewer accepts) or blind double review (two authors answer apart)."""
    return store.projects.set_review_mode(project, review)


def decided_codes(store: Backends, project: Project) -> set[str]:
    """The source codes with an accepted decision."""
    return set(store.rows.accepted_targets(project))


def projects_of(store: Backends, user: User | None = None) -> list[tuple[Project, Role | None]]:
    """The projects ``user`` is a member of, with their role (every project, with no role,
    when ``user`` is None: the command line, which is the database's owner)."""
    found = store.projects.list_projects(user.id if user else None)
    return [(project, store.users.role_of(project, user) if user else None) for project in found]


def announce_project(store: Backends, name: str, source: CodeSystem, target: CodeSystem) -> Project:
    """The project ``name`` for ``source`` → ``target``, marked as being built when it is
    new (the page says so while matching runs); as it is when it exists."""
    return store.projects.announce_project(name, source, target)


def stored_candidates(store: Backends, project: Project) -> list[dict[str, Any]]:
    """The candidates the last match stored for ``project``, best first per source."""
    return store.projects.project_candidates(project.name)
