"""Stored ValueSet versions: one row per url|version, its FHIR JSON, a lifecycle status and
a revision counter (FHIR ``meta.versionId``).

The rule publishers expect of a terminology server: a draft may be rewritten; once a
version is active (or retired) its content is fixed and a change is a new version. A write
that names the revision it read (``If-Match``) is refused when someone changed it since.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa

from terminology.records import (
    StaleRevisionError,
    StoredValueSet,
    ValueSetNotFoundError,
    ValueSetVersionConflictError,
)
from terminology.storage.store import SqlStore, like_literal
from terminology.storage.tables import ValueSetRow

value_sets = ValueSetRow.__table__  # type: ignore[attr-defined]


def _stored(row: Any) -> StoredValueSet:
    return StoredValueSet(
        id=row.id, url=row.url, version=row.version, status=row.status, revision=row.revision,
        resource=row.resource,
    )  # fmt: skip


def _content(resource: dict[str, Any]) -> dict[str, Any]:
    """What must not change once a version is active: all but the server's own fields."""
    return {k: v for k, v in resource.items() if k not in ("id", "meta", "status")}


def save_value_set(
    store: SqlStore, resource: dict[str, Any], *, expected_revision: int | None = None
) -> tuple[StoredValueSet, bool]:
    """Store ``resource`` (a checked ValueSet with url and version) as its url|version;
    returns the stored version and whether anything changed.

    A new url|version is inserted. An existing one is rewritten when it is a draft (its
    revision goes up) or when only its status moves; the same content is left alone.
    ``expected_revision`` (an ``If-Match``) must be the current revision of an existing one.
    """
    version = str(resource["version"])
    now = datetime.now(UTC)
    with store.engine.begin() as connection:
        existing = connection.execute(
            sa.select(value_sets)
            .where(value_sets.c.url == resource["url"], value_sets.c.version == version)
            .with_for_update()
        ).first()
        if existing is None:
            if expected_revision is not None:
                raise StaleRevisionError(f"ValueSet {resource['url']}|{version} does not exist yet")
            return _insert(connection, resource, version, now), True
        check_revision(existing.revision, expected_revision, f"ValueSet/{existing.id}")
        same_content = existing.resource == _content(resource)
        status = resource.get("status", existing.status)
        if same_content and status == existing.status:
            return _stored(existing), False
        if not same_content and existing.status != "draft":
            raise ValueSetVersionConflictError(
                f"ValueSet {resource['url']}|{version} is {existing.status}: its content is fixed;"
                " store the change as a new version"
            )
        written = connection.execute(
            value_sets.update()
            .where(value_sets.c.id == existing.id, value_sets.c.revision == existing.revision)
            .values(
                resource=_content(resource), status=status, name=resource.get("name"),
                revision=existing.revision + 1, changed_at=now,
            )
        ).rowcount  # fmt: skip
        if written != 1:  # SQLite has no FOR UPDATE: another writer got in between read and write
            raise StaleRevisionError(
                f"ValueSet/{existing.id} was changed by another request meanwhile; read it again and redo"
                " your change"
            )
        return _get(connection, existing.id), True


def _insert(
    connection: sa.Connection, resource: dict[str, Any], version: str, now: datetime
) -> StoredValueSet:
    try:
        with connection.begin_nested():  # a savepoint: a lost race leaves the transaction usable
            new_id = connection.execute(
                value_sets.insert()
                .values(
                    url=resource["url"], version=version, name=resource.get("name"),
                    status=resource.get("status", "draft"), revision=1, resource=_content(resource),
                    stored_at=now, changed_at=now,
                )
                .returning(value_sets.c.id)
            ).scalar_one()  # fmt: skip
    except sa.exc.IntegrityError as error:
        raise StaleRevisionError(
            f"ValueSet {resource['url']}|{version} was stored by another request meanwhile; read it and retry"
        ) from error
    return _get(connection, new_id)


def check_revision(current: int, expected: int | None, what: str) -> None:
    """The optimistic lock of FHIR writes: ``If-Match`` must name the current revision."""
    if expected is not None and expected != current:
        raise StaleRevisionError(
            f"{what} is at revision {current}, not {expected} (If-Match): someone changed it since you"
            " read it; read it again and redo your change"
        )


def _get(connection: sa.Connection, value_set_id: int) -> StoredValueSet:
    row = connection.execute(sa.select(value_sets).where(value_sets.c.id == value_set_id)).first()
    if row is None:
        raise ValueSetNotFoundError(f"ValueSet/{value_set_id} is not known")
    return _stored(row)


def get_value_set(store: SqlStore, value_set_id: int) -> StoredValueSet:
    with store.engine.connect() as connection:
        return _get(connection, value_set_id)


def search_value_sets(
    store: SqlStore,
    *,
    url: str | None = None,
    version: str | None = None,
    name: str | None = None,
    status: str | None = None,
) -> list[StoredValueSet]:
    """Versions matching every criterion given (``name``: case-insensitive prefix), by url
    then newest first."""
    query = sa.select(value_sets).order_by(
        value_sets.c.url, value_sets.c.stored_at.desc(), value_sets.c.id.desc()
    )
    for column, value in (
        (value_sets.c.url, url),
        (value_sets.c.version, version),
        (value_sets.c.status, status),
    ):
        if value is not None:
            query = query.where(column == value)
    if name is not None:
        pattern = f"{like_literal(name.lower())}%"
        query = query.where(sa.func.lower(value_sets.c.name).like(pattern, escape="\\"))
    with store.engine.connect() as connection:
        return [_stored(row) for row in connection.execute(query)]
