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
    """Store candidates under a project, in one transaction. Matching again under the same
    name replaces the candidates (no curator decision exists yet to keep)."""
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
    values = {
        "source_system_id": source.id,
        "target_system_id": target.id,
        "rules": list(rules),
        "settings": settings,
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
            connection.execute(projects.update().where(projects.c.id == project_id).values(**values))
            connection.execute(candidates.delete().where(candidates.c.project_id == project_id))
        if rows:
            connection.execute(candidates.insert(), [{"project_id": project_id, **row} for row in rows])
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
