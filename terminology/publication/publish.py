"""Publishing a mapping project: its accepted decisions become a new ConceptMap version."""

from __future__ import annotations

from terminology.publication.conceptmap import build_concept_map, business_version, slug
from terminology.storage import curation
from terminology.storage.conceptmaps import StoredMap, save_concept_map
from terminology.storage.store import SqlStore

CANONICAL_BASE = "urn:concordance:ConceptMap:"


def publish(
    store: SqlStore,
    project: curation.Project,
    *,
    status: str = "active",
    publisher: str = "Concordance",
    url: str | None = None,
    version: str | None = None,
) -> StoredMap:
    """A new immutable version of the project's ConceptMap (``url`` defaults to one derived
    from the project name; ``version`` to the publication time, ``YYYYMMDDhhmmss``)."""
    systems = {system.id: system for system in store.code_systems()}
    source, target = systems[project.source_system_id], systems[project.target_system_id]
    rows, _ = curation.list_rows(store, project, curation.RowQuery(limit=10**7))

    def displays(system_id: int) -> dict[str, str]:
        frame = store.labels_frame(systems[system_id])
        frame = frame.filter(frame["use"] == "display").unique("code", keep="first")
        return dict(zip(frame["code"].to_list(), frame["label"].to_list(), strict=True))

    resource = build_concept_map(
        [row for row, _ in rows],
        source,
        target,
        url=url or CANONICAL_BASE + slug(project.name),
        name=project.name,
        version=version or business_version(),
        status=status,
        publisher=publisher,
        displays=(displays(source.id), displays(target.id)),
    )
    stored, _ = save_concept_map(store, resource, project_id=project.id)
    return stored
