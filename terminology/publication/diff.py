"""What changed between two versions of a ConceptMap: added, removed and changed mappings."""

from __future__ import annotations

from typing import Any

from terminology.models import Frozen


class MapChange(Frozen):
    """One source code whose targets differ between the two versions."""

    source_system: str
    source_code: str
    kind: str
    """``added`` (only in the new version), ``removed`` (only in the old) or ``changed``."""
    before: tuple[tuple[str, str], ...] = ()
    """(target code, equivalence) pairs in the old version."""
    after: tuple[tuple[str, str], ...] = ()


def _targets(resource: dict[str, Any]) -> dict[tuple[str, str], tuple[tuple[str, str], ...]]:
    found: dict[tuple[str, str], list[tuple[str, str]]] = {}
    for group in resource.get("group", []):
        for element in group.get("element", []):
            key = (group.get("source", ""), element.get("code", ""))
            for target in element.get("target", []) or [{"equivalence": "unmatched"}]:
                found.setdefault(key, []).append((target.get("code", ""), target.get("equivalence", "")))
    return {key: tuple(sorted(value)) for key, value in found.items()}


def diff_maps(old: dict[str, Any], new: dict[str, Any]) -> list[MapChange]:
    """Changes from ``old`` to ``new``, by source system and code.

    >>> def one(code, target, equivalence):
    ...     return {"code": code, "target": [{"code": target, "equivalence": equivalence}]}
    >>> old = {"group": [{"source": "s", "element": [one("a", "x", "equal"), one("b", "y", "wider")]}]}
    >>> new = {"group": [{"source": "s", "element": [one("a", "x", "wider"), one("c", "z", "wider")]}]}
    >>> [(c.source_code, c.kind) for c in diff_maps(old, new)]
    [('a', 'changed'), ('b', 'removed'), ('c', 'added')]
    """
    before, after = _targets(old), _targets(new)
    changes = []
    for key in sorted(before.keys() | after.keys()):
        if key not in after:
            kind = "removed"
        elif key not in before:
            kind = "added"
        elif before[key] != after[key]:
            kind = "changed"
        else:
            continue
        changes.append(
            MapChange(
                source_system=key[0],
                source_code=key[1],
                kind=kind,
                before=before.get(key, ()),
                after=after.get(key, ()),
            )
        )
    return changes
