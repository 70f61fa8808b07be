"""Mapping projects: where matching leaves its candidates for curators to review."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa

from terminology.models import Candidate, CodeSystem, Frozen
from terminology.storage.store import SqlStore
from terminology.storage.tables import MappingCandidateRow, MappingProjectRow

projects = MappingProjectRow.__table__  # type: ignore[attr-defined]
candidates = MappingCandidateRow.__table__  # type: ignore[attr-defined]


class MappingProject(Frozen):
    id: int
    name: str
    source_system_id: int
    target_system_id: int
    candidate_count: int
    replaced: bool


def save_candidates(
    store: SqlStore,
    name: str,
    source: CodeSystem,
    target: CodeSystem,
    found: Sequence[Candidate],
    *,
    rules: Sequence[str],
    settings: dict[str, Any],
) -> MappingProject:
    """Store candidates under a project, in one transaction, and open a review row for every
    source concept. Matching again under the same name replaces the candidates; the
    curators' rows and decisions stay."""
    from terminology.storage.curation import flag_changed_targets, open_rows, target_changes

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
    changes = target_changes(store, name, target)
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
        if existing is not None and previous_target != target.id:
            flag_changed_targets(connection, project_id, changes)
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


class RecordedMatch(Frozen):
    """The rule files and settings a project's last match used (what retraining replays)."""

    rules: tuple[str, ...]
    settings: dict[str, Any]


def recorded_match(store: SqlStore, project_id: int) -> RecordedMatch:
    with store.engine.connect() as connection:
        record = connection.execute(
            sa.select(projects.c.rules, projects.c.settings).where(projects.c.id == project_id)
        ).one()
    return RecordedMatch(rules=tuple(record.rules or ()), settings=dict(record.settings or {}))
