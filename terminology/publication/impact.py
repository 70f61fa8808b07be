"""Release impact: which mappings of a published ConceptMap a new target version breaks."""

from __future__ import annotations

from typing import Any

from terminology.models import CodeSystem, Frozen
from terminology.storage.curation import code_changes
from terminology.storage.store import SqlStore


class ImpactedMapping(Frozen):
    source_code: str
    target_code: str
    reason: str


def release_impact(
    store: SqlStore, resource: dict[str, Any], new_target: CodeSystem
) -> list[ImpactedMapping]:
    """Mappings of ``resource`` into ``new_target``'s code system whose target is gone,
    inactive or relabelled in ``new_target``, compared with the version the map was built on."""
    found: list[ImpactedMapping] = []
    for group in resource.get("group", []):
        if group.get("target") != new_target.url:
            continue
        built_on = store.find_code_system(new_target.url, group.get("targetVersion"))
        if built_on is None or built_on.id == new_target.id:
            continue
        reasons = code_changes(store, built_on, new_target)
        for element in group.get("element", []):
            for target in element.get("target", []):
                code = target.get("code")
                if code in reasons:
                    found.append(
                        ImpactedMapping(source_code=element["code"], target_code=code, reason=reasons[code])
                    )
    return found
