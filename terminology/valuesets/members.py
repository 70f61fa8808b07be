"""The members of an expansion and the names they are shown with (display language,
designations)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from terminology.text import fold
from terminology.valuesets.code_validation import (
    STANDARDS_STATUS,
    concept_status,
)
from terminology.valuesets.errors import UnknownCodeSystemError
from terminology.valuesets.lookup import (
    CodeSystemIndex,
    display_in,
    only_languages_asked,
)
from terminology.valuesets.resolution import Terminologies


@dataclass(frozen=True)
class Member:
    """One concept of an expansion."""

    system: str
    code: str
    display: str | None
    version: str | None = None
    abstract: bool = False
    inactive: bool = False
    parents: tuple[str, ...] = ()
    language: str | None = None
    """The language of the code system, hence of ``display``."""

    version_shown: bool = False
    """The expansion lists several versions of the system: this entry says which."""

    @cached_property
    def key(self) -> tuple[str, str]:
        return self.system, self.code

    @property
    def versioned_key(self) -> tuple[str, str, str]:
        return self.system, self.version or "", self.code

    @cached_property
    def searchable(self) -> str:
        """The display folded (accents, case) behind a space, computed once per member (a
        stored version's members live as long as its index): a type-ahead ``filter`` over
        36,000 concepts is then substring tests only."""
        return " " + fold(self.display or "").replace("\n", " ")

    def as_contains(self, names: Names | None = None) -> dict[str, Any]:
        entry: dict[str, Any] = {"system": self.system}
        if self.version_shown and self.version:
            entry["version"] = self.version
        if self.abstract:
            entry["abstract"] = True
        if self.inactive:
            entry["inactive"] = True
        entry["code"] = self.code
        display, designations = names.of(self) if names else (self.display, [])
        if display:
            entry["display"] = display
        if designations:
            entry["designation"] = designations
        return entry


PREFERRED_FOR_LANGUAGE = {
    "system": "http://terminology.hl7.org/CodeSystem/hl7TermMaintInfra",
    "code": "preferredForLanguage",
    "display": "Preferred For Language",
}
BCP_47 = "urn:ietf:bcp:47"


@dataclass(frozen=True)
class Names:
    """How an expansion names its concepts: ``displayLanguage`` (Accept-Language style, from
    the request, the value set's expansion parameters or the HTTP header) picks the display,
    ``includeDesignations`` lists the other names, ``designation`` (``urn:ietf:bcp:47|fr``
    or a use ``system|code``) keeps only some of them.

    A member holds no designations of its own (a stored version's members live as long as
    the process: every container they held would be one more object each full garbage
    collection walks, and type-ahead latency showed it); ``names_of`` fetches them when asked.

    >>> names = {"1": ({"language": "fr", "value": "Grippe"}, {"language": "es", "value": "Gripe"})}
    >>> member, of = Member("urn:s", "1", "Flu", language="en"), lambda m: names[m.code]
    >>> Names("fr", designations=True, names_of=of).of(member)
    ('Grippe', [{'language': 'en', 'use': {...}, 'value': 'Flu'}, {'language': 'es', 'value': 'Gripe'}])
    >>> Names("de", names_of=of).of(member), Names("de, *; q=0", names_of=of).of(member)
    (('Flu', []), (None, []))
    >>> Names(None, designations=True, only=("urn:ietf:bcp:47|es",), names_of=of).of(member)
    ('Flu', [{'language': 'es', 'value': 'Gripe'}])
    """

    language: str | None = None
    designations: bool = False
    only: tuple[str, ...] = ()
    names_of: Callable[[Member], Sequence[dict[str, Any]]] = lambda member: ()
    """The concept's designations, as its code system gives them."""

    def of(self, member: Member) -> tuple[str | None, list[dict[str, Any]]]:
        """The display and the designations to show for ``member``."""
        if not self.language and not self.designations:  # the common case, type-ahead among them
            return member.display, []
        given = self.names_of(member)
        others = [_designation(d) for d in given]
        display = member.display
        if self.language:
            node = {"display": member.display, "designation": list(given)}
            chosen = display_in(node, member.language, self.language)
            if chosen is None and only_languages_asked(self.language):
                display = None
            elif chosen is not None:
                display = chosen
            if display != member.display and member.display:  # the code system's own name
                others = [d for d in others if d.get("value") != display]
                own = {"language": member.language, "use": PREFERRED_FOR_LANGUAGE, "value": member.display}
                others.insert(0, {k: v for k, v in own.items() if v})
        if not self.designations:
            return display, []
        return display, [d for d in others if self._kept(d)]

    def _kept(self, designation: dict[str, Any]) -> bool:
        if not self.only:
            return True
        use = designation.get("use") or {}
        for wanted in self.only:
            system, _, code = wanted.rpartition("|")
            if system == BCP_47 and str(designation.get("language", "")).lower() == code.lower():
                return True
            if system != BCP_47 and use.get("code") == code and use.get("system", system) == system:
                return True
        return False


ConceptOf = Callable[["Member"], tuple[CodeSystemIndex | None, dict[str, Any]]]
"""A member's code system version and concept node (empty when not at hand)."""


def concept_reader(terms: Terminologies) -> ConceptOf:
    """Reads a member's concept in its code system (nothing when that is not at hand), each
    code system version looked up once per expansion, not once per member."""
    systems: dict[tuple[str, str | None], CodeSystemIndex | None] = {}

    def concept_of(member: Member) -> tuple[CodeSystemIndex | None, dict[str, Any]]:
        key = (member.system, member.version)
        if key not in systems:
            try:
                systems[key] = terms.code_system(*key)
            except UnknownCodeSystemError:
                systems[key] = None
        system = systems[key]
        return system, (system.concepts.get(member.code, {}) if system else {})

    return concept_of


def designations_reader(
    concept_of: ConceptOf,
    listed: dict[tuple[str, str], dict[str, Any]],
) -> Callable[[Member], Sequence[dict[str, Any]]]:
    """A member's designations: its code system's, then those the value set adds where it
    lists the concept."""

    def designations_of(member: Member) -> Sequence[dict[str, Any]]:
        found: Sequence[dict[str, Any]] = concept_of(member)[1].get("designation", ())
        added = listed.get(member.key, {}).get("designation")
        return [*found, *added] if added else found

    return designations_of


DESIGNATION_EXTENSIONS = (
    "http://hl7.org/fhir/StructureDefinition/coding-sctdescid",
    STANDARDS_STATUS,
)
"""Extensions of a designation an expansion repeats; others are not understood, so not vouched for."""


def _designation(entry: dict[str, Any]) -> dict[str, Any]:
    shown: dict[str, Any] = {k: entry[k] for k in ("language", "use", "value") if k in entry}
    known = [e for e in entry.get("extension", ()) if e.get("url") in DESIGNATION_EXTENSIONS]
    return {"extension": known, **shown} if known else shown


def member_of(system: CodeSystemIndex, node: dict[str, Any], display: str | None = None) -> Member:
    if display is None:  # the concept as the code system has it: built once per index
        members: dict[str, Member] = system.memo.setdefault("members", {})
        found = members.get(node["code"])
        if found is None:
            found = members[node["code"]] = _new_member(system, node, None)
        return found
    return _new_member(system, node, display)


def _new_member(system: CodeSystemIndex, node: dict[str, Any], display: str | None) -> Member:
    properties = {p.get("code"): p for p in node.get("property", [])}
    _, inactive = concept_status(node)
    return Member(
        system=system.url,
        code=node["code"],
        display=display or node.get("display"),
        version=system.version,
        abstract=is_abstract(system, properties),
        inactive=inactive,
        parents=tuple(system.parents.get(node["code"], [])),
        language=system.resource.get("language"),
    )


NOT_SELECTABLE = "http://hl7.org/fhir/concept-properties#notSelectable"


def not_selectable(system: CodeSystemIndex) -> tuple[str, ...]:
    """The property codes that mean ``notSelectable`` in this code system: its own name for the
    standard property (by ``uri``), and ``notSelectable`` itself."""
    names: tuple[str, ...] | None = system.memo.get("not-selectable")
    if names is None:
        declared = [p["code"] for p in system.resource.get("property", []) if p.get("uri") == NOT_SELECTABLE]
        names = system.memo["not-selectable"] = tuple(dict.fromkeys(["notSelectable", *declared]))
    return names


def is_abstract(system: CodeSystemIndex, properties: dict[str, dict[str, Any]]) -> bool:
    return any(properties.get(name, {}).get("valueBoolean") is True for name in not_selectable(system))
