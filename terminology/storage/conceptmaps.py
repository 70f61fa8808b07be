"""Stored ConceptMap versions: immutable content, a lifecycle status, and a catalogue stamp
that lets each worker know, cheaply, when its cache of active maps is stale."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa

from terminology.records import (
    ConceptMapNotFoundError,
    ConceptMapVersionConflictError,
    StaleConceptMapError,
    StoredMap,
)
from terminology.storage.store import SqlStore, like_literal
from terminology.storage.tables import ConceptMapRow

maps = ConceptMapRow.__table__  # type: ignore[attr-defined]


def _stored(row: Any) -> StoredMap:
    return StoredMap(
        id=row.id, url=row.url, version=row.version, status=row.status, resource=row.resource,
        revision=row.revision,
    )  # fmt: skip


def save_version(
    store: SqlStore, resource: dict[str, Any], *, project_id: int | None = None
) -> tuple[StoredMap, bool]:
    """Store an R4 ConceptMap version that has a url and a version (checked by the caller,
    :func:`terminology.services.concept_maps.save_concept_map`); returns it and whether it is
    new. The same url|version with other content is refused: a published version never
    changes."""
    version = str(resource["version"])
    now = datetime.now(UTC)
    with store.engine.begin() as connection:
        existing = connection.execute(
            sa.select(maps).where(maps.c.url == resource["url"], maps.c.version == version)
        ).first()
        if existing is not None:
            kept = {k: v for k, v in existing.resource.items() if k != "status"}
            if kept != {k: v for k, v in resource.items() if k != "status"}:
                raise ConceptMapVersionConflictError(
                    f"{resource['url']}|{version} is already published with other content; "
                    "publish a new version"
                )
            return _stored(existing), False
        new_id = connection.execute(
            maps.insert()
            .values(
                url=resource["url"],
                version=version,
                name=resource.get("name"),
                status=resource.get("status", "draft"),
                source_uri=resource.get("sourceUri") or resource.get("sourceCanonical"),
                target_uri=resource.get("targetUri") or resource.get("targetCanonical"),
                project_id=project_id,
                resource=resource,
                published_at=now,
                changed_at=now,
            )
            .returning(maps.c.id)
        ).scalar_one()
    return get_concept_map(store, new_id), True


def get_concept_map(store: SqlStore, map_id: int) -> StoredMap:
    with store.engine.connect() as connection:
        row = connection.execute(sa.select(maps).where(maps.c.id == map_id)).first()
    if row is None:
        raise ConceptMapNotFoundError(f"ConceptMap/{map_id} is not known")
    return _stored(row)


def set_status(
    store: SqlStore, map_id: int, status: str, *, expected_revision: int | None = None
) -> StoredMap:
    """Record a version's new lifecycle status (its content does not change); which moves
    are allowed is :func:`terminology.publication.conceptmap.check_status_change`'s rule.
    With ``expected_revision`` (a writer's ``If-Match``) the change only lands on that
    revision: two publishers cannot both win."""
    query = maps.update().where(maps.c.id == map_id)
    if expected_revision is not None:
        query = query.where(maps.c.revision == expected_revision)
    with store.engine.begin() as connection:
        changed = connection.execute(
            query.values(status=status, changed_at=datetime.now(UTC), revision=maps.c.revision + 1)
        ).rowcount
    if not changed:
        current = get_concept_map(store, map_id)
        raise StaleConceptMapError(
            f"ConceptMap/{map_id} is at revision {current.revision}, not {expected_revision} (If-Match):"
            " someone changed it since you read it; read it again and redo your change"
        )
    return get_concept_map(store, map_id)


def search_concept_maps(
    store: SqlStore,
    *,
    url: str | None = None,
    version: str | None = None,
    name: str | None = None,
    status: str | None = None,
    source: str | None = None,
    target: str | None = None,
) -> list[StoredMap]:
    """Versions matching every given criterion, newest first. ``source`` / ``target`` match
    the map's scope or any of its groups' systems."""
    query = sa.select(maps).order_by(maps.c.url, maps.c.published_at.desc(), maps.c.id.desc())
    for column, value in ((maps.c.url, url), (maps.c.version, version), (maps.c.status, status)):
        if value is not None:
            query = query.where(column == value)
    if name is not None:
        query = query.where(sa.func.lower(maps.c.name).like(f"{like_literal(name.lower())}%", escape="\\"))
    with store.engine.connect() as connection:
        found = [_stored(row) for row in connection.execute(query)]

    def touches(stored: StoredMap, uri: str, side: str) -> bool:
        scope = stored.resource.get(f"{side}Uri") or stored.resource.get(f"{side}Canonical")
        return scope == uri or any(group.get(side) == uri for group in stored.resource.get("group", []))

    if source is not None:
        found = [m for m in found if touches(m, source, "source")]
    if target is not None:
        found = [m for m in found if touches(m, target, "target")]
    return found


def catalogue_stamp(store: SqlStore) -> tuple[int, str]:
    """Changes whenever a version is added or changes status: (count, latest change)."""
    with store.engine.connect() as connection:
        count, latest = connection.execute(sa.select(sa.func.count(), sa.func.max(maps.c.changed_at))).one()
    return int(count), str(latest)
