"""``compose`` filters over one code system (``is-a``, ``descendent-of``, ``regex``, ``=``,
properties...), memoised per code system."""

from __future__ import annotations

from typing import Any

import re2

from terminology.valuesets.errors import FilterWithoutValueError, InvalidValueSetError
from terminology.valuesets.limits import Budget
from terminology.valuesets.lookup import (
    CodeSystemIndex,
)
from terminology.valuesets.members import Member, member_of

CONCEPT_PROPERTIES = {"concept", "code"}


def _descendants(system: CodeSystemIndex, code: str) -> list[str]:
    found: dict[str, None] = {}  # ordered, with O(1) membership
    stack = list(reversed(system.children.get(code, [])))
    while stack:
        child = stack.pop()
        if child not in found:
            found[child] = None
            stack.extend(reversed(system.children.get(child, [])))
    return list(found)


def _ancestors(system: CodeSystemIndex, code: str) -> set[str]:
    found: set[str] = set()
    stack = list(system.parents.get(code, []))
    while stack:
        parent = stack.pop()
        if parent not in found:
            found.add(parent)
            stack.extend(system.parents.get(parent, []))
    return found


def _property_value(node: dict[str, Any], name: str) -> str | None:
    if name == "display":
        return node.get("display")
    for prop in node.get("property", []):
        if prop.get("code") == name:
            for key, value in prop.items():
                if key.startswith("value"):
                    return str(value).lower() if isinstance(value, bool) else str(value)
    return None


def filtered(system: CodeSystemIndex, codes: list[str], rule: dict[str, Any]) -> list[str]:
    name, op, value = rule.get("property", ""), rule.get("op", ""), rule.get("value")
    if value is None and op != "exists":
        raise FilterWithoutValueError(
            f"The system {system.url} filter with property = {name}, op = {op} has no value", rule
        )
    value = str(value) if value is not None else ""
    if name in CONCEPT_PROPERTIES:
        if op in ("is-a", "descendent-of", "is-not-a"):
            below = set(_descendants(system, value))
            subtree = below | {value} if value in system.concepts else below
            if op == "is-a":
                return [c for c in codes if c in subtree]
            if op == "descendent-of":
                return [c for c in codes if c in below]
            return [c for c in codes if c not in subtree]
        if op == "child-of":
            return [c for c in codes if c in set(system.children.get(value, []))]
        if op == "generalizes":
            return [c for c in codes if c == value or c in _ancestors(system, value)]
        if op in ("in", "not-in"):
            listed = {v.strip() for v in value.split(",")}
            return [c for c in codes if (c in listed) == (op == "in")]
        if op == "=":
            return [c for c in codes if c == value]
        if op == "regex":
            pattern = _regex(value, system)
            return [c for c in codes if pattern.fullmatch(c)]
        raise InvalidValueSetError(f"The filter op '{op}' is not supported on the property {name}")
    values = {c: _property_value(system.concepts[c], name) for c in codes}
    if op == "=":
        return [c for c in codes if values[c] == value]
    if op in ("in", "not-in"):
        listed = {v.strip() for v in value.split(",")}
        return [c for c in codes if (values[c] in listed) == (op == "in")]
    if op == "regex":
        pattern = _regex(value, system)
        return [c for c in codes if values[c] is not None and pattern.fullmatch(values[c] or "")]
    if op == "exists":
        return [c for c in codes if (values[c] is not None) == (value.lower() != "false")]
    raise InvalidValueSetError(f"The filter op '{op}' is not supported on the property {name}")


def _regex(pattern: str, system: CodeSystemIndex) -> Any:
    """A filter's regex, compiled by RE2: linear time whatever the pattern, so a value set
    cannot stall a worker with a catastrophic pattern such as ``(a+)+``."""
    try:
        return re2.compile(pattern)
    except re2.error as error:
        raise InvalidValueSetError(
            f"The regex '{pattern}' in a filter on {system.url} is not valid: {error}"
        ) from error


def _in_order(system: CodeSystemIndex) -> list[str]:
    """Every code, depth first in the code system's own order."""
    return list(system.concepts)


FILTER_MEMO = 32
"""Filtered code lists kept per code system index (the most recently used)."""


def filtered_system(system: CodeSystemIndex, rules: list[dict[str, Any]], budget: Budget) -> list[Member]:
    """The system's concepts through ``rules``, each chain of filters worked out once per
    index: a value set that repeats an expensive filter (or a client that repeats the value
    set) pays for it once."""
    Chain = tuple[tuple[str, str, str], ...]
    memo: dict[Chain, tuple[list[str], list[Member]]] = system.memo.setdefault("filters", {})
    chain: Chain = ()
    found = memo.pop(chain, None)
    if found is None:
        codes = _in_order(system)
        found = (codes, [member_of(system, system.concepts[code]) for code in codes])
    memo[chain] = found
    for rule in rules:
        budget.check_time()
        chain = (*chain, (str(rule.get("property", "")), str(rule.get("op", "")), str(rule.get("value"))))
        known = memo.pop(chain, None)
        if known is None:
            codes = filtered(system, found[0], rule)
            keep = set(codes)
            known = (codes, [m for m in found[1] if m.code in keep])
        found = memo[chain] = known  # re-inserted: the newest last
        while len(memo) > FILTER_MEMO:
            memo.pop(next(iter(memo)), None)
    return found[1]
