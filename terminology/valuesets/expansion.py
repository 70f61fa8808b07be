"""ValueSets: ``$expand`` and ``ValueSet/$validate-code`` over FHIR ``compose`` definitions.

A value set is a rule over code systems: include a whole system, listed concepts, or concepts
a filter selects (``is-a``, ``descendent-of``, ``child-of``, ``generalizes``, ``is-not-a``,
``regex``, ``=``, ``in``, ``not-in``, ``exists`` on the code or a property), intersect with
imported value sets, then exclude the same way. The code systems and value sets come from the
request (``tx-resource``, as the HL7 test runner sends them) or from the stored versions.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

from terminology.valuesets.errors import (
    CircularValueSetError,
    FilterWithoutValueError,
    InvalidValueSetError,
    UnknownValueSetError,
)
from terminology.valuesets.expansion_details import Details
from terminology.valuesets.filters import filtered, filtered_system
from terminology.valuesets.members import Member, Names, concept_reader, designations_reader, member_of
from terminology.valuesets.resolution import URI_PARAMETERS, Terminologies, canonical_of
from terminology.valuesets.typeahead import TypeaheadIndex, filtered_for_typing

EXPANSION_PARAMETER = "http://hl7.org/fhir/StructureDefinition/valueset-expansion-parameter"
ECHOED = (*URI_PARAMETERS, "excludeNested", "activeOnly", "includeDesignations", "includeDefinition",
          "displayLanguage", "count", "offset", "filter", "excludeNotForUI",
          "excludePostCoordinated")  # fmt: skip
"""Expansion parameters echoed in ``expansion.parameter``, as the reference servers do."""


@dataclass
class Expansion:
    members: list[Member]
    used: list[str]
    """``url|version`` of every code system the expansion read."""


def _contained(contained: list[dict[str, Any]], reference: str) -> dict[str, Any] | None:
    """``#id``: a value set contained in the one being expanded."""
    if not reference.startswith("#"):
        return None
    found = next((r for r in contained if r.get("id") == reference[1:]), None)
    if found is None or found.get("resourceType") != "ValueSet":
        raise UnknownValueSetError(f"A definition for the value Set '{reference}' could not be found")
    return found


def _imported(terms: Terminologies, reference: str) -> dict[str, Any]:
    """The value set an import names; without a version, the request's
    ``default-valueset-version`` for it, if any (a version nobody has is then refused)."""
    url, _, version = reference.partition("|")
    default = terms.value_set_versions.get(url) if not version else None
    if default is None:
        return terms.value_set(reference)
    terms.rules_used.add("default-valueset-version")
    try:
        return terms.value_set(url, default)
    except UnknownValueSetError as error:
        error.message_id = "VS_EXP_IMPORT_UNK_PINNED"
        raise


def _include_part(
    part: dict[str, Any],
    terms: Terminologies,
    used: list[str],
    seen: tuple[str, ...],
    contained: list[dict[str, Any]] = [],  # noqa: B006 - only read
) -> list[Member]:
    terms.budget.spend_part()
    sets: list[list[Member]] = []
    if part.get("system"):
        system = terms.code_system(part["system"], terms.include_version(part["system"], part.get("version")))
        terms.versions.verify(system.url, system.version)
        if system.canonical not in used:
            used.append(system.canonical)
        terms.note_status(system.resource, system.canonical, kind="CodeSystem")
        if system.resource.get("content") == "fragment":  # the expansion may miss codes
            terms.note("used-fragment", system.canonical, "CodeSystem")
        if part.get("concept"):
            listed = [
                (c["code"], c.get("display")) for c in part["concept"] if c.get("code") in system.concepts
            ]
            members = [member_of(system, system.concepts[code], display) for code, display in listed]
            codes = [m.code for m in members]
            for rule in part.get("filter", []):
                terms.budget.check_time()
                codes = filtered(system, codes, rule)
            keep = set(codes)
            sets.append([m for m in members if m.code in keep])
        else:
            sets.append(filtered_system(system, part.get("filter", []), terms.budget))
    for reference in part.get("valueSet", []):
        if reference in seen:
            raise CircularValueSetError(f"The value set {reference} imports itself")
        imported = _contained(contained, reference) or _imported(terms, reference)
        if not reference.startswith("#"):
            terms.note("used-valueset", canonical_of(imported))
            terms.note_status(imported, canonical_of(imported))
        sets.append(_members(imported, terms, used, (*seen, reference)))
    if not sets:
        return []
    if len(sets) == 1:
        return sets[0]
    keys = set.intersection(*({m.key for m in found} for found in sets))
    return [m for m in sets[0] if m.key in keys]


def _overloaded(compose: dict[str, Any]) -> set[str]:
    """The code systems a compose names in several versions: their concepts are listed per
    version, each with its version."""
    stated: dict[str, set[str | None]] = {}
    for part in compose.get("include", []) + compose.get("exclude", []):
        if part.get("system"):
            stated.setdefault(part["system"], set()).add(part.get("version"))
    return {system for system, versions in stated.items() if len(versions) > 1}


def _members(
    value_set: dict[str, Any], terms: Terminologies, used: list[str], seen: tuple[str, ...] = ()
) -> list[Member]:
    compose = value_set.get("compose") or {}
    parts = compose.get("include", [])
    if len(parts) == 1 and not compose.get("exclude") and not parts[0].get("concept"):
        # One rule over a system (a whole system, an is-a filter): its members are unique and
        # already listed, kept per index; the common type-ahead case skips the merging.
        members = _include_part(parts[0], terms, used, seen, value_set.get("contained", []))
        return [m for m in members if not m.inactive] if compose.get("inactive") is False else members
    overloaded = _overloaded(compose)
    included: dict[tuple[str, ...], Member] = {}
    for part in compose.get("include", []):
        for member in _include_part(part, terms, used, seen, value_set.get("contained", [])):
            if member.system in overloaded:  # each version's concept is a member of its own
                member = replace(member, version_shown=True)
            included.setdefault(member.versioned_key if member.version_shown else member.key, member)
    versions = {(m.system, m.version) for m in included.values()}
    strict = compose_parameter(value_set, "versionsMatch") in (False, "false")
    excluded: set[tuple[str, ...]] = set()
    for part in compose.get("exclude", []):
        for member in _include_part(part, terms, used, seen, value_set.get("contained", [])):
            # an exclusion of an included version removes that version's concept; of another
            # version, the same code in every version (unless versionsMatch is false)
            exact = strict or (member.system, member.version) in versions
            excluded.add(member.versioned_key if exact else member.key)
            terms.versions_matched |= not exact
    members = [m for m in included.values() if m.key not in excluded and m.versioned_key not in excluded]
    if compose.get("inactive") is False:
        members = [m for m in members if not m.inactive]
    return members


def expansion_members(value_set: dict[str, Any], terms: Terminologies) -> Expansion:
    """The concepts of a value set (compose evaluated; an existing expansion used as is)."""
    used: list[str] = []
    try:
        return _expansion_members(value_set, terms, used)
    except FilterWithoutValueError as error:
        error.locate(value_set)
        raise


def _expansion_members(value_set: dict[str, Any], terms: Terminologies, used: list[str]) -> Expansion:
    if not value_set.get("compose") and value_set.get("expansion"):
        members = [Member(c.get("system", ""), c["code"], c.get("display"), c.get("version"),
                          c.get("abstract", False), c.get("inactive", False))
                   for c in value_set["expansion"].get("contains", []) if c.get("code")]  # fmt: skip
        return Expansion(members, used)
    return Expansion(_members(value_set, terms, used), used)


def expand(
    value_set: dict[str, Any],
    terms: Terminologies,
    *,
    parameters: Iterable[tuple[str, Any]] = (),
    accept_language: str | None = None,
    typeahead: TypeaheadIndex | None = None,
) -> dict[str, Any]:
    """The value set with its ``expansion`` (``activeOnly``, ``filter``, ``count`` / ``offset``,
    the names: ``displayLanguage``, else the value set's own, else ``accept_language``, the
    HTTP header; ``includeDesignations``, ``designation``; ``typeahead``: where the joined texts
    a ``filter`` searches are kept).

    >>> from terminology.valuesets.lookup import CodeSystemIndex
    >>> cs = CodeSystemIndex({"url": "urn:c", "version": "1", "concept": [
    ...     {"code": "a", "display": "A", "concept": [{"code": "b", "display": "B"}]}, {"code": "z"}]})
    >>> vs = {"resourceType": "ValueSet", "url": "urn:v", "compose": {"include": [
    ...     {"system": "urn:c", "filter": [{"property": "concept", "op": "is-a", "value": "a"}]}]}}
    >>> nested = expand(vs, Terminologies([cs]))["expansion"]["contains"]
    >>> [(c["code"], [child["code"] for child in c.get("contains", [])]) for c in nested]
    [('a', ['b'])]
    """
    asked = dict(parameters)
    language = (
        asked.get("displayLanguage") or compose_parameter(value_set, "displayLanguage") or accept_language
    )
    if language:
        asked["displayLanguage"] = _tidy_languages(str(language))
    wanted = asked.get("designation") or []
    names = Names(
        asked.get("displayLanguage"),
        designations=_true(asked.get("includeDesignations")),
        only=tuple(str(w) for w in (wanted if isinstance(wanted, list) else [wanted])),
        names_of=designations_reader(
            concept_of := concept_reader(terms), listed := listed_concepts(value_set)
        ),
    )
    details = Details(asked=_listed(asked.get("property")), listed=listed)
    found = expansion_members(value_set, terms)
    members = found.members
    if _true(asked.get("activeOnly")):
        members = [m for m in members if not m.inactive]
    text = asked.get("filter")
    if text:
        members = filtered_for_typing(members, str(text), names=names, index=typeahead)
    offset = _integer(asked.get("offset"), 0) or 0
    count = _integer(asked.get("count"), None)
    for name, value in (("offset", offset), ("count", count)):
        if name in asked:
            asked[name] = value  # echoed as the integers R4 ValueSet-expand declares
    paged = "offset" in asked or bool(count)  # count=0 asks for the total alone
    page = members[offset : offset + count if count is not None else None]
    terms.budget.check_listed(len(page), len(members))
    echoed = [
        {"name": name, _echo_key(name, asked[name]): asked[name]}
        for name in ECHOED
        if name in asked and (name not in URI_PARAMETERS or name in terms.rules_used)
    ]  # displayLanguage is a code (R4 ValueSet-expand), the others as they were given; a version
    # rule only when it decided a version
    echoed += [{"name": "designation", "valueString": wanted} for wanted in names.only]
    echoed += [{"name": "used-codesystem", "valueUri": canonical} for canonical in found.used]
    if terms.versions_matched:
        echoed.append({"name": "versionsMatch", "valueBoolean": True})
    terms.note_status(value_set, canonical_of(value_set), drafts=False)
    echoed += [{"name": name, "valueUri": canonical} for name, canonical in terms.notes]
    expansion: dict[str, Any] = {
        "identifier": f"urn:uuid:{uuid.uuid4()}",
        "timestamp": datetime.now(UTC).isoformat(timespec="seconds"),
        "total": len(members),
    }
    if "offset" in asked:
        expansion["offset"] = offset
    expansion["parameter"] = echoed
    expansion_extensions = _unclosed(terms)
    nested = not (paged or _true(asked.get("excludeNested")) or _enumerated(value_set) or _imports(value_set))

    def entry_of(member: Member) -> dict[str, Any]:
        entry = member.as_contains(names)
        if details.asked or member.versioned_key[:2] not in plain:
            system, node = concept_of(member)
            if system is None or not details.wanted(system):
                plain.add(member.versioned_key[:2])
            elif node:
                details.add_to(entry, system, node)
        return entry

    plain: set[tuple[str, str]] = set()  # code system versions whose concepts show only names
    contains = _nested(page, entry_of) if nested else [entry_of(m) for m in page]
    expansion_extensions += details.declared()
    if expansion_extensions:
        expansion["extension"] = expansion_extensions
    if contains:
        expansion["contains"] = contains
    # compose is left out: the expansion is the answer, and its rules may name private systems;
    # so is the value set's descriptive metadata, as the reference servers do (what is expanded
    # is named by url, version, name, title, status and date)
    result = {k: v for k, v in value_set.items() if k not in NOT_IN_EXPANSION}
    result["expansion"] = expansion
    return result


NOT_IN_EXPANSION = frozenset({
    "expansion", "text", "meta", "compose", "publisher", "description", "contact", "copyright",
    "purpose", "useContext", "jurisdiction",
})  # fmt: skip
"""What an expansion does not repeat of the value set it expands."""


def listed_concepts(value_set: dict[str, Any]) -> dict[tuple[str, str], dict[str, Any]]:
    """The concepts the value set lists with something to say of them (extensions,
    designations), by (system, code)."""
    return {
        (include["system"], concept["code"]): concept
        for include in value_set.get("compose", {}).get("include", [])
        if include.get("system")
        for concept in include.get("concept", [])
        if concept.get("code") and (concept.get("extension") or concept.get("designation"))
    }


UNCLOSED = "http://hl7.org/fhir/StructureDefinition/valueset-unclosed"


def _unclosed(terms: Terminologies) -> list[dict[str, Any]]:
    """``valueset-unclosed`` when the expansion read a code system known only in part (a
    ``fragment``): codes it does not list may still belong to the value set."""
    fragments = [canonical for name, canonical in terms.notes if name == "used-fragment"]
    if not fragments:
        return []
    reasons = "; ".join(
        f"This extension is based on a fragment of the code system {canonical.partition('|')[0]}"
        for canonical in fragments
    )
    return [{"url": UNCLOSED, "valueBoolean": True}, {"url": UNCLOSED + "-reason", "valueString": reasons}]


def _imports(value_set: dict[str, Any]) -> bool:
    """A value set drawing on others lists their concepts flat, as the reference servers do:
    the hierarchy is shown for what the value set takes from code systems directly."""
    return any(include.get("valueSet") for include in value_set.get("compose", {}).get("include", []))


def _enumerated(value_set: dict[str, Any]) -> bool:
    """A value set listing its codes is shown as listed, flat: its author chose that order."""
    return any(include.get("concept") for include in value_set.get("compose", {}).get("include", []))


def compose_parameter(value_set: dict[str, Any], name: str) -> Any:
    """A parameter the value set sets for its own expansions (``valueset-expansion-parameter``)."""
    for extension in value_set.get("compose", {}).get("extension", []):
        if extension.get("url") != EXPANSION_PARAMETER:
            continue
        parts = {e.get("url"): e for e in extension.get("extension", [])}
        if (parts.get("name") or {}).get("valueCode") == name:
            value = parts.get("value") or {}
            return next((v for k, v in value.items() if k.startswith("value")), None)
    return None


def _tidy_languages(text: str) -> str:
    """Accept-Language with weights is echoed spaced as the reference servers do (``de, *; q=0``)."""
    if ";" not in text:
        return text
    return ", ".join(part.strip().replace(";q=", "; q=") for part in text.split(","))


def _nested(members: list[Member], entry_of: Callable[[Member], dict[str, Any]]) -> list[dict[str, Any]]:
    """Members under their parent when it is in the expansion too (the hierarchy shown)."""
    entries = {m.versioned_key: entry_of(m) for m in members}
    roots: list[dict[str, Any]] = []
    for member in members:
        at = member.versioned_key
        parent = next((p for p in member.parents if (at[0], at[1], p) in entries), None)
        if parent is None:
            roots.append(entries[at])
        else:
            entries[(at[0], at[1], parent)].setdefault("contains", []).append(entries[at])
    return roots


def _listed(value: Any) -> tuple[str, ...]:
    """A repeatable parameter's values (``property``), one or many as given."""
    if value is None:
        return ()
    return tuple(str(v) for v in (value if isinstance(value, list) else [value]))


def _true(value: Any) -> bool:
    return value is True or str(value).lower() == "true"


def _integer(value: Any, default: int | None) -> int | None:
    """``count`` or ``offset``: a whole number, 0 or more (a negative one is refused, not
    read as 0: the client asked for something that does not exist).

    >>> _integer("5", None), _integer(None, 0)
    (5, 0)
    >>> _integer("-5", None)
    Traceback (most recent call last):
    terminology.valuesets.errors.InvalidValueSetError: count and offset are whole numbers, 0 or more, ...
    """
    if value is None:
        return default
    try:
        number = int(value)
    except (TypeError, ValueError) as error:
        raise InvalidValueSetError(f"count and offset are whole numbers, 0 or more, not {value!r}") from error
    if number < 0:
        raise InvalidValueSetError(f"count and offset are whole numbers, 0 or more, not {value!r}")
    return number


def _echo_key(name: str, value: Any) -> str:
    if name == "displayLanguage":  # a code in R4 ValueSet-expand
        return "valueCode"
    return "valueUri" if name in URI_PARAMETERS else _value_key(value)


def _value_key(value: Any) -> str:
    if isinstance(value, bool):
        return "valueBoolean"
    if isinstance(value, int):
        return "valueInteger"
    return "valueString"
