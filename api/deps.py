"""Typed dependencies: the store, the caller, and the caller's role in a project."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Header, Path, Request

from api.problems import ForbiddenError, NotAuthenticatedError
from terminology.backends import Backends
from terminology.records import Project, User
from terminology.review.workflow import RANK, Actor, Role
from terminology.services.projects import find_project
from terminology.services.users import role_of, user_for_token


def store_of(request: Request) -> Backends:
    store: Backends = request.app.state.store
    return store


Store = Annotated[Backends, Depends(store_of)]


def caller(store: Store, authorization: Annotated[str | None, Header()] = None) -> User:
    scheme, _, token = (authorization or "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise NotAuthenticatedError(
            "send Authorization: Bearer <token> (concordance users add NAME makes one)"
        )
    user = user_for_token(store, token.strip())
    if user is None:
        raise NotAuthenticatedError("unknown or revoked token")
    return user


Caller = Annotated[User, Depends(caller)]


@dataclass(frozen=True)
class Membership:
    project: Project
    actor: Actor

    def require(self, role: Role) -> None:
        if RANK[self.actor.role] < RANK[role]:
            raise ForbiddenError(
                f"this needs the role {role.value}; {self.actor.name} is {self.actor.role.value}"
            )


LARGEST_ID = 2**63 - 1
"""Database ids are signed 64-bit integers (SQLite and PostgreSQL ``bigint``)."""
DatabaseId = Annotated[int, Path(ge=1, le=LARGEST_ID)]


def membership(store: Store, user: Caller, project_id: DatabaseId) -> Membership:
    project = find_project(store, project_id)
    role = role_of(store, project, user)
    if role is None:
        raise ForbiddenError(f"{user.name} is not a member of project {project.name!r}")
    return Membership(project, Actor(name=user.name, role=role))


Member = Annotated[Membership, Depends(membership)]
