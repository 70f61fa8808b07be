"""Mapping projects: where matching leaves its candidates for curators to review."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any, Literal

import sqlalchemy as sa

from terminology.models import Candidate, CodeSystem
from terminology.records import Change, MappingProject, Project, ProjectNotFoundError, RecordedMatch
from terminology.review.context import Placement
from terminology.storage.curation import open_rows, set_queue_facts, write_changes
from terminology.storage.store import SqlStore
from terminology.storage.tables import MappingCandidateRow, MappingProjectRow, ProjectMemberRow

projects = MappingProjectRow.__table__  # type: ignore[attr-defined]
candidates = MappingCandidateRow.__table__  # type: ignore[attr-defined]
members = ProjectMemberRow.__table__  # type: ignore[attr-defined]


def _project(row: Any) -> Project:
    review = (row.settings or {}).get("review", "single")
    return Project(
        id=row.id,
        name=row.name,
        source_system_id=row.source_system_id,
        target_system_id=row.target_system_id,
        review=review,
        building=(row.settings or {}).get("building"),
    )


def list_projects(store: SqlStore, user_id: int | None = None) -> list[Project]:
    """Every project, or those the user ``user_id`` is a member of."""
    query = sa.select(projects).order_by(projects.c.id)
    if user_id is not None:
        query = query.join(members, members.c.project_id == projects.c.id).where(members.c.user_id == user_id)
    with store.engine.connect() as connection:
        return [_project(row) for row in connection.execute(query)]


def get_project(store: SqlStore, project: int | str) -> Project:
    column = projects.c.id if isinstance(project, int) else projects.c.name
    with store.engine.connect() as connection:
        row = connection.execute(sa.select(projects).where(column == project)).first()
    if row is None:
        raise ProjectNotFoundError(f"no mapping project {project!r}")
    return _project(row)


def announce_project(store: SqlStore, name: str, source: CodeSystem, target: CodeSystem) -> Project:
    """A project whose first match has started: listed (without rows) so that members see it
    is coming; its first :func:`save_candidates` fills it. An existing project is returned as is."""
    with store.engine.begin() as connection:
        existing = connection.execute(sa.select(projects).where(projects.c.name == name)).first()
        if existing is not None:
            return _project(existing)
        connection.execute(
            projects.insert().values(
                name=name,
                source_system_id=source.id,
                target_system_id=target.id,
                rules=[],
                settings={"review": "single", "building": datetime.now(UTC).isoformat(timespec="seconds")},
                matched_at=datetime.now(UTC),
            )
        )
    return get_project(store, name)


def set_review_mode(store: SqlStore, project: Project, review: Literal["single", "double"]) -> Project:
    with store.engine.begin() as connection:
        settings = connection.execute(
            sa.select(projects.c.settings).where(projects.c.id == project.id)
        ).scalar()
        connection.execute(
            projects.update()
            .where(projects.c.id == project.id)
            .values(settings={**(settings or {}), "review": review})
        )
    return replace(project, review=review)


def save_candidates(
    store: SqlStore,
    name: str,
    source: CodeSystem,
    target: CodeSystem,
    found: Sequence[Candidate],
    *,
    rules: Sequence[str],
    settings: dict[str, Any],
    flags: Sequence[Change] = (),
    placed: Mapping[str, Placement] | None = None,
    frequencies: Mapping[str, float] | None = None,
) -> MappingProject:
    """Store candidates under a project, in one transaction, and open a review row for every
    source concept. Matching again under the same name replaces the candidates; the
    curators' rows and decisions stay; with a new target version, ``flags`` (the decided
    rows the review rules flag for a changed target, computed by the service) are written
    in the same transaction, each at the version it was read at.
    Every row also gets what its queue filters and sorts on: its best candidate's score
    and method, its place in the source hierarchy (``placed``) and usage (``frequencies``)."""

    labels = store.labels_frame(source)
    displays = labels.filter(labels["use"] == "display").unique("code", keep="first").sort("code")
    concepts = list(
        zip(displays.get_column("code").to_list(), displays.get_column("label").to_list(), strict=True)
    )
    rows = [
        {
            "source_code": c.source_code,
            "target_code": c.target_code,
            "rank": c.rank,
            "score": c.score,
            "equivalence": c.equivalence,
            "method": c.method,
            "rules": list(c.rules),
            "reason": c.reason,
        }
        for c in found
    ]
    project_settings: dict[str, Any] = {"review": "single", **settings}
    values: dict[str, Any] = {
        "source_system_id": source.id,
        "target_system_id": target.id,
        "rules": list(rules),
        "settings": project_settings,
        "matched_at": datetime.now(UTC),
    }
    with store.engine.begin() as connection:
        existing = connection.execute(sa.select(projects.c.id).where(projects.c.name == name)).scalar()
        if existing is None:
            project_id = connection.execute(
                projects.insert().values(name=name, **values).returning(projects.c.id)
            ).scalar_one()
        else:
            project_id = existing
            previous_target = connection.execute(
                sa.select(projects.c.target_system_id).where(projects.c.id == project_id)
            ).scalar_one()
            kept = connection.execute(
                sa.select(projects.c.settings).where(projects.c.id == project_id)
            ).scalar()
            values["settings"] = {**project_settings, "review": (kept or {}).get("review", "single")}
            connection.execute(projects.update().where(projects.c.id == project_id).values(**values))
            connection.execute(candidates.delete().where(candidates.c.project_id == project_id))
        if rows:
            connection.execute(candidates.insert(), [{"project_id": project_id, **row} for row in rows])
        open_rows(connection, project_id, concepts)
        set_queue_facts(connection, project_id, found, placed or {}, frequencies or {})
        if existing is not None and previous_target != target.id:
            write_changes(connection, flags)
    return MappingProject(
        id=project_id,
        name=name,
        source_system_id=source.id,
        target_system_id=target.id,
        candidate_count=len(rows),
        replaced=existing is not None,
    )


def project_candidates(store: SqlStore, name: str) -> list[dict[str, Any]]:
    """The stored candidates of a project, by source code and rank."""
    query = (
        sa.select(candidates)
        .join(projects, projects.c.id == candidates.c.project_id)
        .where(projects.c.name == name)
        .order_by(candidates.c.source_code, candidates.c.rank)
    )
    with store.engine.connect() as connection:
        return [dict(row._mapping) for row in connection.execute(query)]


def recorded_match(store: SqlStore, project_id: int) -> RecordedMatch:
    with store.engine.connect() as connection:
        record = connection.execute(
            sa.select(projects.c.rules, projects.c.settings).where(projects.c.id == project_id)
        ).one()
    return RecordedMatch(rules=tuple(record.rules or ()), settings=dict(record.settings or {}))
