"""Users and their roles in projects: who may do what (the review rules read the role)."""

from __future__ import annotations

import hashlib
import secrets
from datetime import UTC, datetime

import sqlalchemy as sa

from terminology.records import LastAdminError, NotAMemberError, Project, UnknownUserError, User
from terminology.review.workflow import Role
from terminology.storage.store import SqlStore
from terminology.storage.tables import ProjectMemberRow, UserRow

users = UserRow.__table__  # type: ignore[attr-defined]
members = ProjectMemberRow.__table__  # type: ignore[attr-defined]


def hash_token(token: str) -> str:
    """Tokens are 256-bit random strings, so one SHA-256 suffices (no password stretching)."""
    return hashlib.sha256(token.encode()).hexdigest()


def create_user(store: SqlStore, name: str) -> tuple[User, str]:
    """A new user and their bearer token, shown once; only its hash is stored."""
    token = "cc_" + secrets.token_urlsafe(32)
    with store.engine.begin() as connection:
        user_id = connection.execute(
            users.insert()
            .values(name=name, token_hash=hash_token(token), created_at=datetime.now(UTC))
            .returning(users.c.id)
        ).scalar_one()
    return User(id=user_id, name=name), token


def user_for_token(store: SqlStore, token: str) -> User | None:
    with store.engine.connect() as connection:
        row = connection.execute(
            sa.select(users.c.id, users.c.name).where(users.c.token_hash == hash_token(token))
        ).first()
    return User(id=row.id, name=row.name) if row is not None else None


def find_user(store: SqlStore, name: str) -> User:
    with store.engine.connect() as connection:
        row = connection.execute(sa.select(users.c.id, users.c.name).where(users.c.name == name)).first()
    if row is None:
        raise UnknownUserError(f"no user named {name!r}")
    return User(id=row.id, name=row.name)


def add_member(store: SqlStore, project: Project, user: User, role: Role) -> None:
    """Give ``user`` a role in ``project`` (replacing the one they had)."""
    with store.engine.begin() as connection:
        connection.execute(
            members.delete().where(members.c.project_id == project.id, members.c.user_id == user.id)
        )
        connection.execute(members.insert().values(project_id=project.id, user_id=user.id, role=role.value))


def remove_member(store: SqlStore, project: Project, user: User) -> Role:
    """Take ``user``'s role in ``project`` away (their next request is refused); returns the
    role they had. A project keeps at least one admin."""
    with store.engine.begin() as connection:
        had = connection.execute(
            sa.select(members.c.role).where(members.c.project_id == project.id, members.c.user_id == user.id)
        ).scalar()
        if had is None:
            raise NotAMemberError(f"{user.name} is not a member of project {project.name!r}")
        if had == Role.ADMIN.value:
            admins = connection.execute(
                sa.select(sa.func.count())
                .select_from(members)
                .where(members.c.project_id == project.id, members.c.role == Role.ADMIN.value)
            ).scalar_one()
            if admins == 1:
                raise LastAdminError(f"{user.name} is the last admin of {project.name!r}: name another first")
        connection.execute(
            members.delete().where(members.c.project_id == project.id, members.c.user_id == user.id)
        )
    return Role(had)


def is_publisher(store: SqlStore, user: User) -> bool:
    """Whether ``user`` may write terminology resources through the FHIR API."""
    with store.engine.connect() as connection:
        return bool(connection.execute(sa.select(users.c.publisher).where(users.c.id == user.id)).scalar())


def set_publisher(store: SqlStore, name: str, publisher: bool) -> User:
    """Give ``name`` the right to write terminology resources through the FHIR API (or take it)."""
    user = find_user(store, name)
    with store.engine.begin() as connection:
        connection.execute(users.update().where(users.c.id == user.id).values(publisher=publisher))
    return user


def user_names(store: SqlStore) -> list[str]:
    with store.engine.connect() as connection:
        return list(connection.execute(sa.select(users.c.name).order_by(users.c.name)).scalars())


def revoke_user(store: SqlStore, name: str) -> User:
    """Make ``name``'s token stop working at once (``users token`` gives them a new one)."""
    user = find_user(store, name)
    revoked = "revoked:" + secrets.token_hex(28)  # never the SHA-256 of a token: no token matches
    with store.engine.begin() as connection:
        connection.execute(users.update().where(users.c.id == user.id).values(token_hash=revoked))
    return user


def role_of(store: SqlStore, project: Project, user: User) -> Role | None:
    with store.engine.connect() as connection:
        value = connection.execute(
            sa.select(members.c.role).where(members.c.project_id == project.id, members.c.user_id == user.id)
        ).scalar()
    return Role(value) if value is not None else None


def ensure_user(store: SqlStore, name: str) -> tuple[User, str]:
    """The user named ``name`` with a fresh token (created if missing; an old token stops
    working)."""
    token = "cc_" + secrets.token_urlsafe(32)
    with store.engine.begin() as connection:
        found = connection.execute(sa.select(users.c.id).where(users.c.name == name)).scalar()
        if found is None:
            found = connection.execute(
                users.insert()
                .values(name=name, token_hash=hash_token(token), created_at=datetime.now(UTC))
                .returning(users.c.id)
            ).scalar_one()
        else:
            connection.execute(users.update().where(users.c.id == found).values(token_hash=hash_token(token)))
    return User(id=found, name=name), token


def members_of(store: SqlStore, project: Project) -> list[tuple[str, Role]]:
    """The project's members (name, role), by name: whom a row can be assigned to."""
    with store.engine.connect() as connection:
        found = connection.execute(
            sa.select(users.c.name, members.c.role)
            .join(members, members.c.user_id == users.c.id)
            .where(members.c.project_id == project.id)
            .order_by(users.c.name)
        ).all()
    return [(name, Role(role)) for name, role in found]
