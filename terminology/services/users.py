"""Users and project members: accounts and tokens, publishers, roles in a project, and the
member a name means (by its NFKC + casefold key, so one person never holds two accounts the
review rules would tell apart)."""

from __future__ import annotations

from terminology.backends import Backends
from terminology.records import Project, User
from terminology.review.names import check_name, person_key
from terminology.review.workflow import (
    Actor,
    InvalidDecision,
    Role,
)


def find_member(store: Backends, project: Project, name: str, *, what: str = "user") -> Actor:
    """The project member ``name`` means, with their role: looked up by the name's key
    (``RUI`` and ``rui `` are ``rui``), never taken as free text. A name with invisible or
    control characters, or no member of that name, is refused."""
    key = person_key(check_name(name, what=what))
    for member, role in store.users.members_of(project):
        if person_key(member) == key:
            return Actor(name=member, role=role)
    raise InvalidDecision(f"{name!r} is not a member of project {project.name!r}")


def new_user(store: Backends, name: str) -> tuple[str, str]:
    """A new user and their token (shown once): the name checked as every name is, and
    refused when it is another spelling of an existing user's (``RUI`` beside ``rui``), so
    that one person never holds two accounts the review rules would tell apart."""
    checked = check_name(name, what="user name")
    key = person_key(checked)
    clash = next((known for known in store.users.user_names() if person_key(known) == key), None)
    if clash is not None:
        raise InvalidDecision(f"{checked!r} is another spelling of the existing user {clash!r}")
    user, token = store.users.create_user(checked)
    return user.name, token


def add_member(store: Backends, project: Project, name: str, role: Role) -> Actor:
    """Give ``name`` a role in ``project``, creating the user (with no usable token until
    ``concordance users token``) when the name is new: what an analyst's notebook calls
    before it imports decisions on someone's behalf. A name is checked as every name is."""
    checked = check_name(name, what="user name")
    key = person_key(checked)
    existing = next((known for known in store.users.user_names() if person_key(known) == key), None)
    user = store.users.find_user(existing) if existing else store.users.create_user(checked)[0]
    store.users.add_member(project, user, role)
    return Actor(name=user.name, role=role)


def assignable_member(store: Backends, project: Project, name: str) -> str:
    """The member a row may be assigned to: one whose role can act on rows (author or
    above); their name as the project knows it."""
    member = find_member(store, project, name, what="assignee")
    if member.role == Role.VIEWER:
        raise InvalidDecision(
            f"{member.name} is a viewer of project {project.name!r}; a row is assigned to an author or above"
        )
    return member.name


def user_for_token(store: Backends, token: str) -> User | None:
    """The user a bearer token belongs to (None for an unknown or revoked token)."""
    return store.users.user_for_token(token.strip())


def find_user(store: Backends, name: str) -> User:
    """The user of that name (:class:`~terminology.records.UnknownUserError` otherwise)."""
    return store.users.find_user(name)


def ensure_user(store: Backends, name: str) -> tuple[User, str]:
    """The user ``name`` (created when new) with a fresh token, shown once."""
    return store.users.ensure_user(check_name(name, what="user name"))


def revoke_user(store: Backends, name: str) -> User:
    """Revoke ``name``'s token: nothing they send is accepted any more."""
    return store.users.revoke_user(name)


def user_names(store: Backends) -> list[str]:
    return store.users.user_names()


def is_publisher(store: Backends, user: User) -> bool:
    """Whether ``user`` may write FHIR resources (publish ConceptMaps, ValueSets)."""
    return store.users.is_publisher(user)


def set_publisher(store: Backends, name: str, publisher: bool) -> User:
    return store.users.set_publisher(name, publisher)


def role_of(store: Backends, project: Project, user: User) -> Role | None:
    """``user``'s role in ``project``; None when they are not a member."""
    return store.users.role_of(project, user)


def members_of(store: Backends, project: Project) -> list[tuple[str, Role]]:
    return store.users.members_of(project)


def give_role(store: Backends, project: Project, user_name: str, role: Role) -> Role:
    """Give the existing user ``user_name`` a role in ``project`` (replacing the one they had)."""
    store.users.add_member(project, store.users.find_user(user_name), role)
    return role


def remove_member(store: Backends, project: Project, user_name: str) -> Role:
    """Take ``user_name`` out of ``project``; the role they had (the last admin stays)."""
    return store.users.remove_member(project, store.users.find_user(user_name))
