"""``$translate`` over ConceptMap versions, without a database round trip once indexed.

A :class:`MapIndex` is built once per immutable ConceptMap version (dicts keyed by
system and code, both directions), so a warm lookup is a few dictionary reads.
Semantics follow FHIR R4 ``ConceptMap/$translate``: groups are chosen by source
system (and target system when asked), ``unmapped`` modes apply when a group has
no element for the code, ``reverse`` maps target → source, and ``result`` is true
when some match is neither ``unmatched`` nor ``disjoint``.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeVar

from terminology.versions import latest_per_url

NEGATIVE = frozenset({"unmatched", "disjoint"})
INVERSE = {"wider": "narrower", "narrower": "wider", "subsumes": "specializes", "specializes": "subsumes"}


@dataclass(frozen=True, slots=True)
class Match:
    equivalence: str
    system: str | None
    code: str | None
    display: str | None
    source: str
    """The ConceptMap's ``url|version``."""
    comment: str | None = None


@dataclass(frozen=True, slots=True)
class Entry:
    group: int
    equivalence: str
    system: str | None
    code: str | None
    display: str | None
    comment: str | None


@dataclass
class MapIndex:
    """One ConceptMap version, indexed both ways."""

    resource: dict[str, Any]
    forward: dict[tuple[str, str], list[Entry]] = field(default_factory=lambda: defaultdict(list))
    backward: dict[tuple[str, str], list[Entry]] = field(default_factory=lambda: defaultdict(list))
    falls_back: bool = field(init=False, default=False)
    """A group sends unmapped codes to another map (``unmapped.mode = other-map``)."""

    def __post_init__(self) -> None:
        self.falls_back = any(
            (group.get("unmapped") or {}).get("mode") == "other-map"
            for group in self.resource.get("group", [])
        )
        for number, group in enumerate(self.resource.get("group", [])):
            source, target = group.get("source", ""), group.get("target", "")
            for element in group.get("element", []):
                for mapped in element.get("target", []) or [{"equivalence": "unmatched"}]:
                    equivalence = mapped.get("equivalence", "relatedto")
                    self.forward[(source, element.get("code", ""))].append(
                        Entry(number, equivalence, target or None, mapped.get("code"), mapped.get("display"),
                              mapped.get("comment"))
                    )  # fmt: skip
                    if mapped.get("code") and equivalence not in NEGATIVE:
                        self.backward[(target, mapped["code"])].append(
                            Entry(number, INVERSE.get(equivalence, equivalence), source or None,
                                  element.get("code"), element.get("display"), mapped.get("comment"))
                        )  # fmt: skip

    @property
    def canonical(self) -> str:
        version = self.resource.get("version")
        return f"{self.resource['url']}|{version}" if version else self.resource["url"]

    def groups(self) -> list[dict[str, Any]]:
        groups: list[dict[str, Any]] = self.resource.get("group", [])
        return groups


@dataclass(frozen=True, slots=True)
class Question:
    """What is asked: codings to translate (system, code), with optional target system."""

    codings: tuple[tuple[str | None, str], ...]
    target_system: str | None = None
    reverse: bool = False


def _fits(group: dict[str, Any], system: str | None, target_system: str | None, reverse: bool) -> bool:
    source_side, target_side = (group.get("target"), group.get("source")) if reverse else (
        group.get("source"), group.get("target"))  # fmt: skip
    if system is not None and source_side not in (None, system):
        return False
    return target_system is None or target_side in (None, target_system)


def translate(
    index: MapIndex, question: Question, *, others: dict[str, MapIndex] | None = None, depth: int = 0
) -> list[Match]:
    """Every match of the question's codings in one map (``others`` resolves ``other-map``)."""
    found: list[Match] = []
    for system, code in question.codings:
        table = index.backward if question.reverse else index.forward
        keys = [(system, code)] if system is not None else [key for key in table if key[1] == code]
        matched_groups: set[int] = set()
        for key in keys:
            for entry in table.get(key, []):
                group = index.groups()[entry.group]
                if not _fits(group, key[0], question.target_system, question.reverse):
                    continue
                matched_groups.add(entry.group)
                found.append(
                    Match(
                        entry.equivalence,
                        entry.system,
                        entry.code,
                        entry.display,
                        index.canonical,
                        entry.comment,
                    )
                )
        if question.reverse:
            continue
        for number, group in enumerate(index.groups()):
            unmapped = group.get("unmapped")
            if (
                number in matched_groups
                or not unmapped
                or not _fits(group, system, question.target_system, False)
            ):
                continue
            if system is not None and group.get("source") not in (None, system):
                continue
            mode = unmapped.get("mode")
            if mode == "provided":
                found.append(Match("equal", group.get("target"), code, None, index.canonical))
            elif mode == "fixed":
                found.append(
                    Match("equivalent", group.get("target"), unmapped.get("code"), unmapped.get("display"),
                          index.canonical)
                )  # fmt: skip
            elif mode == "other-map" and others and depth < 5:
                other = others.get(unmapped.get("url", "").split("|")[0])
                if other is not None:
                    again = Question(((system, code),), question.target_system)
                    found.extend(translate(other, again, others=others, depth=depth + 1))
    return found


def has_result(matches: list[Match]) -> bool:
    return any(match.equivalence not in NEGATIVE for match in matches)


class Versioned(Protocol):
    @property
    def url(self) -> str: ...

    @property
    def version(self) -> str: ...

    @property
    def status(self) -> str: ...


V = TypeVar("V", bound=Versioned)


def newest(versions: Iterable[V]) -> list[V]:
    """Per canonical url, the version that answers when none is named: the latest active
    one, else the latest of any status (:func:`terminology.versions.latest_per_url`)."""
    return latest_per_url(versions, is_active=lambda stored: stored.status == "active")


def no_match_message(question: Question, maps: Sequence[dict[str, Any]]) -> str:
    """Why ``$translate`` found nothing, in words an interface developer can act on: a code
    system none of the maps translates from (wrong system, wrong map, wrong server), no map
    towards the ``targetsystem`` asked, or a known system whose code is not mapped.

    >>> cm = {"url": "urn:m", "version": "1", "group": [{"source": "urn:a", "target": "urn:b"}]}
    >>> no_match_message(Question((("urn:x", "1"),)), [cm])
    'The code system urn:x is not a source of the ConceptMap consulted (urn:m|1): no mapping for urn:x|1'
    >>> no_match_message(Question((("urn:a", "1"),), target_system="urn:c"), [cm])
    'No ConceptMap consulted (urn:m|1) maps urn:a to urn:c: no mapping for urn:a|1'
    >>> no_match_message(Question((("urn:a", "1"),)), [cm])
    'No mappings could be found for urn:a|1'
    """
    asked = ", ".join(f"{system}|{code}" if system else code for system, code in question.codings)
    if not maps:
        return f"No ConceptMap on this server is in scope for this request: no mapping for {asked}"
    side, other = ("target", "source") if question.reverse else ("source", "target")
    groups = [group for resource in maps for group in resource.get("group", [])]
    systems = [system for system, _ in question.codings if system]
    consulted = _named(maps)
    plural = "s" if len(maps) > 1 else ""
    if systems and not any(group.get(side) in (None, system) for group in groups for system in systems):
        return (
            f"The code system {', '.join(dict.fromkeys(systems))} is not a {side} of the ConceptMap{plural}"
            f" consulted ({consulted}): no mapping for {asked}"
        )
    wanted = question.target_system
    if wanted and not any(
        group.get(other) in (None, wanted) and (not systems or group.get(side) in (None, *systems))
        for group in groups
    ):
        towards = f"{', '.join(systems)} to {wanted}"
        return f"No ConceptMap consulted ({consulted}) maps {towards}: no mapping for {asked}"
    return f"No mappings could be found for {asked}"


def _named(maps: Sequence[dict[str, Any]], most: int = 3) -> str:
    names = [f"{m.get('url')}|{m.get('version')}" if m.get("version") else str(m.get("url")) for m in maps]
    return ", ".join(names[:most]) + (f" and {len(names) - most} more" if len(names) > most else "")
