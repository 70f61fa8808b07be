"""ValueSets: ``$expand`` and ``ValueSet/$validate-code`` over FHIR ``compose`` definitions.

A value set is a rule over code systems: include a whole system, listed concepts, or concepts
a filter selects (``is-a``, ``descendent-of``, ``child-of``, ``generalizes``, ``is-not-a``,
``regex``, ``=``, ``in``, ``not-in``, ``exists`` on the code or a property), intersect with
imported value sets, then exclude the same way. The code systems and value sets come from the
request (``tx-resource``, as the HL7 test runner sends them) or from the stored versions.
"""

from __future__ import annotations

import bisect
import re
import threading
import time
import uuid
from array import array
from collections import OrderedDict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from functools import cached_property
from typing import Any

import re2

from terminology.errors import CodeSystemNotFoundError, ConcordanceError
from terminology.publication.expansion_details import Details
from terminology.publication.lookup import (
    CodeSystemIndex,
    display_in,
    languages_asked,
    only_languages_asked,
    same_language,
)
from terminology.publication.validate import (
    STANDARDS_STATUS,
    Issue,
    Validation,
    ValidationOptions,
    Where,
    concept_status,
    validate_code,
)
from terminology.text import fold
from terminology.versions import is_wildcard, matches_wildcard, pick_version, version_key

CONCEPT_PROPERTIES = {"concept", "code"}
URI_PARAMETERS = (
    "system-version",
    "force-system-version",
    "check-system-version",
    "default-valueset-version",
)
"""Parameters given as ``url|version`` and echoed only when they decided a version."""
EXPANSION_PARAMETER = "http://hl7.org/fhir/StructureDefinition/valueset-expansion-parameter"
ECHOED = (*URI_PARAMETERS, "excludeNested", "activeOnly", "includeDesignations", "includeDefinition",
          "displayLanguage", "count", "offset", "filter", "excludeNotForUI",
          "excludePostCoordinated")  # fmt: skip
"""Expansion parameters echoed in ``expansion.parameter``, as the reference servers do."""


class UnknownValueSetError(ConcordanceError):
    code = "not-found"
    http_status = 404
    fhir_issue = "not-found"


class UnknownCodeSystemError(CodeSystemNotFoundError):
    """A value set names a code system the request did not send and the store lacks."""

    code = "not-found"
    system: str | None = None
    """``url|version`` of the code system that is missing."""


class InvalidValueSetError(ConcordanceError):
    code = "invalid"
    http_status = 400
    fhir_issue = "invalid"


class FilterWithoutValueError(InvalidValueSetError):
    """A compose filter (other than ``exists``) without the value it filters by."""

    tx_issue = "vs-invalid"
    message_id = "UNABLE_TO_HANDLE_SYSTEM_FILTER_WITH_NO_VALUE"

    def __init__(self, message: str, rule: dict[str, Any]) -> None:
        super().__init__(message)
        self.rule = rule

    def locate(self, value_set: dict[str, Any]) -> None:
        """Point ``expression`` at the filter in the value set that holds it."""
        for i, part in enumerate(value_set.get("compose", {}).get("include", [])):
            for j, rule in enumerate(part.get("filter", [])):
                if rule is self.rule:
                    self.expression = f"ValueSet.compose.include[{i}].filter[{j}]"


class CircularValueSetError(InvalidValueSetError):
    """A value set imports itself, directly or through others."""

    fhir_issue = "processing"
    tx_issue = "vs-invalid"
    message_id = "VALUESET_CIRCULAR_REFERENCE"


class SupplementMissingError(ConcordanceError):
    """A supplement the request or the value set requires is not available."""

    code = "not-found"
    http_status = 404
    fhir_issue = "not-found"
    message_id = "VALUESET_SUPPLEMENT_MISSING"


SUPPLEMENT_EXTENSION = "http://hl7.org/fhir/StructureDefinition/valueset-supplement"


def require_supplements(
    value_set: dict[str, Any], terms: Terminologies, asked: Iterable[str] = ()
) -> list[CodeSystemIndex]:
    """The supplements asked for (``useSupplement``) or that the value set requires
    (``valueset-supplement``), every one of which must be at hand: an answer without it
    would be silently wrong."""
    required = [str(url) for url in asked] + [
        str(e.get("valueCanonical"))
        for e in value_set.get("extension", [])
        if e.get("url") == SUPPLEMENT_EXTENSION
    ]
    found: list[CodeSystemIndex] = []
    for wanted in required:
        url, _, version = wanted.partition("|")
        sent = [cs for cs in terms.code_systems if cs.url == url and (not version or cs.version == version)]
        supplement = sent[-1] if sent else terms.stored_code_system(url, version or None)
        if supplement is None:
            raise SupplementMissingError(f"Required supplement not found: {wanted}")
        if supplement not in found:
            found.append(supplement)
    return found


def supplemented(system: CodeSystemIndex, supplements: Sequence[CodeSystemIndex]) -> CodeSystemIndex:
    """``system`` with what its ``supplements`` add to its concepts (designations, properties,
    extensions: labels, weights, rendering) and the properties they declare.

    >>> base = CodeSystemIndex({"url": "urn:c", "concept": [{"code": "a", "display": "A"}]})
    >>> extra = CodeSystemIndex({"url": "urn:s", "content": "supplement", "supplements": "urn:c",
    ...     "concept": [{"code": "a", "designation": [{"language": "nl", "value": "Aa"}]}]})
    >>> supplemented(base, [extra]).concepts["a"]
    {'code': 'a', 'display': 'A', 'designation': [{'language': 'nl', 'value': 'Aa'}]}
    """
    declared = list(system.resource.get("property", []))
    for supplement in supplements:
        codes = {p.get("code") for p in declared}
        declared += [p for p in supplement.resource.get("property", []) if p.get("code") not in codes]

    def merged(node: dict[str, Any]) -> dict[str, Any]:
        copy = dict(node)
        for supplement in supplements:
            extra = supplement.concepts.get(node["code"], {})
            for key in ("designation", "property", "extension"):
                if extra.get(key):
                    copy[key] = [*copy.get(key, []), *extra[key]]
        if node.get("concept"):
            copy["concept"] = [merged(child) for child in node["concept"]]
        return copy

    resource = {**system.resource, "concept": [merged(n) for n in system.resource.get("concept", [])]}
    if declared:
        resource["property"] = declared
    return CodeSystemIndex(resource)


def _supplements(supplement: CodeSystemIndex, system: CodeSystemIndex) -> bool:
    url, _, version = str(supplement.resource.get("supplements", "")).partition("|")
    return url == system.url and (not version or version == system.version)


class TooCostlyError(ConcordanceError):
    """The operation would cost more than the server allows one request (FHIR ``too-costly``)."""

    code = "too-costly"
    http_status = 422
    fhir_issue = "too-costly"
    tx_issue = ""  # the reference servers say too-costly alone
    message_id = "VALUESET_TOO_COSTLY"


@dataclass
class Budget:
    """What one ValueSet operation may cost: ``include`` / ``exclude`` parts evaluated
    (imported value sets counted), concepts listed in one answer, and time. The default is
    unbounded, for the command line and the Python API; the FHIR routes set the settings'."""

    max_parts: int | None = None
    max_listed: int | None = None
    deadline: float | None = None
    """A ``time.monotonic()`` instant after which the operation stops."""
    parts: int = 0

    def spend_part(self) -> None:
        self.parts += 1
        if self.max_parts is not None and self.parts > self.max_parts:
            raise TooCostlyError(
                f"the value set has more than {self.max_parts} include / exclude parts (imports counted),"
                " the most one request may evaluate here"
            )
        self.check_time()

    def check_time(self) -> None:
        if self.deadline is not None and time.monotonic() > self.deadline:
            raise TooCostlyError("the operation ran out of the seconds one request may take here")

    def check_listed(self, listed: int, total: int) -> None:
        if self.max_listed is not None and listed > self.max_listed:
            raise TooCostlyError(
                f"the expansion would list {listed} of {total} concepts; at most {self.max_listed} are"
                " listed in one answer: page through it with count and offset"
            )


@dataclass(frozen=True)
class VersionRules:
    """The request's say on code system versions (``$expand`` / ``$validate-code``
    parameters, each ``url|version``, ``x`` wildcards allowed): ``system-version`` when the
    value set names none, ``force-system-version`` whatever it names, ``check-system-version``
    refuses a value set naming another."""

    default: dict[str, str] = field(default_factory=dict)
    force: dict[str, str] = field(default_factory=dict)
    check: dict[str, str] = field(default_factory=dict)

    @classmethod
    def of(cls, **given: Iterable[Any]) -> VersionRules:
        """From the parameters' values (``system_version=[...]``, ``force_system_version``...)."""

        def table(values: Iterable[Any]) -> dict[str, str]:
            found = {}
            for value in values:
                url, _, version = str(value).partition("|")
                if not version:
                    raise InvalidValueSetError(f"a system version parameter is url|version, not {value!r}")
                found[url] = version
            return found

        return cls(
            default=table(given.get("system_version", ())),
            force=table(given.get("force_system_version", ())),
            check=table(given.get("check_system_version", ())),
        )

    wanted: dict[str, str] = field(default_factory=dict)
    """The version a coding under validation names: it is the one read wherever the value set
    allows any version that fits (``1.x``), rather than the latest that fits."""

    def apply(self, url: str, given: str | None) -> str | None:
        """
        >>> rules = VersionRules(default={"urn:a": "2"}, force={"urn:b": "1.x"}, wanted={"urn:c": "1.0"})
        >>> [rules.apply(url, given) for url, given in (("urn:a", None), ("urn:a", "1"), ("urn:b", "2"))]
        ['2', '1', '1.x']
        >>> rules.apply("urn:c", "1.x"), rules.apply("urn:c", "2.x"), rules.apply("urn:c", "1.1")
        ('1.0', '2.x', '1.1')
        """
        rule = self.deciding(url, given)
        if rule == "force-system-version":
            return self.force[url]
        if rule == "wanted":
            return self.wanted[url]
        if rule == "system-version":
            return self.default[url]
        if rule == "check-system-version":  # a versionless include reads the latest that passes
            return self.check[url]
        return given

    def deciding(self, url: str, given: str | None) -> str | None:
        """Which rule decides the version an include of ``url`` stating ``given`` reads (None:
        the include itself). A versionless include reads the request's ``system-version``,
        else the latest version its ``check-system-version`` allows."""
        if url in self.force:
            return "force-system-version"
        wanted = self.wanted.get(url)
        if wanted is not None and is_wildcard(given) and matches_wildcard(str(given), wanted):
            return "wanted"
        if given is None and url in self.default:
            return "system-version"
        if given is None and url in self.check:
            return "check-system-version"
        return None

    def verify(self, url: str, version: str | None) -> None:
        """``check-system-version``: the version an include resolved to must fit."""
        wanted = self.check.get(url)
        fits = wanted is None or version is None or version == wanted or matches_wildcard(wanted, version)
        if not fits:
            raise VersionCheckError(
                f"The version '{version}' is not allowed for system '{url}': required to be '{wanted}'"
                " by a version-check parameter",
                system=url,
                version=version,
            )


class VersionCheckError(ConcordanceError):
    """The value set names a code system version the request's ``check-system-version`` refuses."""

    code = "version-check"
    http_status = 400
    fhir_issue = "exception"
    tx_issue = "version-error"
    message_id = "VALUESET_VERSION_CHECK"

    def __init__(self, message: str, *, system: str = "", version: str | None = None) -> None:
        super().__init__(message)
        self.system = system
        self.version = version


@dataclass
class Terminologies:
    """The code systems and value sets a request may use: those it sends, then stored ones
    (then, for a value set, the implicit one a ``?fhir_vs`` url stands for)."""

    code_systems: list[CodeSystemIndex] = field(default_factory=list)
    value_sets: list[dict[str, Any]] = field(default_factory=list)
    stored_code_system: Callable[[str, str | None], CodeSystemIndex | None] = lambda url, version: None
    stored_value_set: Callable[[str, str | None], dict[str, Any] | None] = lambda url, version: None
    budget: Budget = field(default_factory=Budget)
    value_set_versions: dict[str, str] = field(default_factory=dict)
    """``default-valueset-version``: the version an import naming a value set without one reads."""
    versions: VersionRules = field(default_factory=lambda: VersionRules())
    rules_used: set[str] = field(default_factory=set)
    """The request's version parameters that decided an include's version."""
    notes: list[tuple[str, str]] = field(default_factory=list)
    """What the expansion says it drew on: ``used-valueset`` and the ``warning-*`` of the
    draft, experimental, deprecated or withdrawn resources among them (name, canonical)."""

    kinds: dict[str, str] = field(default_factory=dict)
    """The resource type of each canonical noted (``CodeSystem``, ``ValueSet``)."""
    versions_matched: bool = False
    """An exclusion of one version of a code system removed the same codes of another
    (``versionsMatch``, true unless the value set says otherwise): the expansion says so."""
    supplements: list[CodeSystemIndex] = field(default_factory=list)
    """The supplements in force (``useSupplement``, ``valueset-supplement``): the code systems
    they supplement are read with what they add."""
    _supplemented: dict[tuple[str, str | None], CodeSystemIndex] = field(default_factory=dict)

    def note(self, name: str, canonical: str, kind: str = "ValueSet") -> None:
        self.kinds.setdefault(canonical, kind)
        if (name, canonical) not in self.notes:
            self.notes.append((name, canonical))

    def status_issues(self) -> list[Issue]:
        """The ``warning-*`` notes as a ``$validate-code`` says them: information, not errors."""
        issues = []
        for name, canonical in self.notes:
            status = name.removeprefix("warning-")
            if status != name:
                text = f"Reference to {status} {self.kinds.get(canonical, 'ValueSet')} {canonical}"
                issues.append(
                    Issue("information", "business-rule", "status-check", text, "", f"MSG_{status.upper()}")
                )
        return issues

    def note_status(
        self, resource: dict[str, Any], canonical: str, *, drafts: bool = True, kind: str = "ValueSet"
    ) -> None:
        """Warn of a code system or value set its publisher does not stand behind as final
        (``drafts``: of a draft or experimental one too; the value set expanded was chosen by
        the caller, who knows its status)."""
        standards = next(
            (e.get("valueCode") for e in resource.get("extension", []) if e.get("url") == STANDARDS_STATUS),
            None,
        )
        if standards in ("deprecated", "withdrawn"):
            self.note(f"warning-{standards}", canonical, kind)
        if drafts and resource.get("status") == "draft":
            self.note("warning-draft", canonical, kind)
        if drafts and resource.get("experimental") is True:
            self.note("warning-experimental", canonical, kind)

    def include_version(self, url: str, given: str | None) -> str | None:
        """The version of ``url`` an include reads, after the request's version rules (the
        rules that decided one are noted: the expansion echoes those)."""
        rule = self.versions.deciding(url, given)
        if rule in URI_PARAMETERS:
            self.rules_used.add(str(rule))
        return self.versions.apply(url, given)

    def code_system(self, url: str, version: str | None = None) -> CodeSystemIndex:
        sent = [
            cs for cs in self.code_systems if cs.url == url and cs.resource.get("content") != "supplement"
        ]
        chosen = pick_version(sent, version, version_of=lambda cs: cs.version)
        if chosen is not None:
            return self._with_supplements(chosen)
        stored = self.stored_code_system(url, version)
        if stored is not None:
            return self._with_supplements(stored)
        known = sorted({cs.version for cs in sent if cs.version}, key=version_key)
        asked = f"'{url}' version '{version}'" if version else f"'{url}'"
        text = f"A definition for CodeSystem {asked} could not be found, so the value set cannot be expanded"
        error = UnknownCodeSystemError(text + (f". Valid versions: {' or '.join(known)}" if known else ""))
        error.system = f"{url}|{version}" if version else url
        raise error

    def _with_supplements(self, system: CodeSystemIndex) -> CodeSystemIndex:
        applying = [s for s in self.supplements if _supplements(s, system)]
        if not applying:
            return system
        key = (system.url, system.version)
        if key not in self._supplemented:
            self._supplemented[key] = supplemented(system, applying)
            for supplement in applying:
                self.note("used-supplement", supplement.canonical, "CodeSystem")
        return self._supplemented[key]

    def value_set(self, url: str, version: str | None = None) -> dict[str, Any]:
        url, _, pinned = url.partition("|")
        version = version or pinned or None
        same_url = [vs for vs in self.value_sets if vs.get("url") == url]
        chosen = pick_version(same_url, version, version_of=lambda vs: vs.get("version"))
        if chosen is None:  # an implicit url (``?fhir_vs``) is never stored: no query for it
            chosen = implicit_value_set(url, version) or self.stored_value_set(url, version)
        if chosen is None:
            wanted = f"{url}|{version}" if version else url
            raise UnknownValueSetError(f"A definition for the value Set '{wanted}' could not be found")
        return chosen


IMPLICIT = "?fhir_vs"


def implicit_value_set(url: str, version: str | None = None) -> dict[str, Any] | None:
    """The value set an implicit canonical stands for (``SYSTEM?fhir_vs``: every concept of
    the code system; ``SYSTEM?fhir_vs=isa/CODE``: CODE and its descendants), or None when
    ``url`` is not one. ``version`` is the code system's.

    >>> implicit_value_set("http://loinc.org?fhir_vs=isa/LP1")["compose"]["include"]
    [{'system': 'http://loinc.org', 'filter': [{'property': 'concept', 'op': 'is-a', 'value': 'LP1'}]}]
    >>> implicit_value_set("http://loinc.org") is None
    True
    """
    system, marker, rest = url.partition(IMPLICIT)
    if not marker or not system:
        return None
    include: dict[str, Any] = {"system": system}
    if version:
        include["version"] = version
    if rest.startswith("=isa/") and len(rest) > len("=isa/"):
        include["filter"] = [{"property": "concept", "op": "is-a", "value": rest[len("=isa/") :]}]
    elif rest:
        raise InvalidValueSetError(
            f"The implicit value set {url} is not one this server knows: {system}?fhir_vs (the whole"
            f" code system) and {system}?fhir_vs=isa/CODE (CODE and what is below it) are"
        )
    return {"resourceType": "ValueSet", "url": url, "status": "active", "compose": {"include": [include]}}


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


def _concept_reader(terms: Terminologies) -> ConceptOf:
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


def _designations_reader(
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


@dataclass
class Expansion:
    members: list[Member]
    used: list[str]
    """``url|version`` of every code system the expansion read."""


def _member(system: CodeSystemIndex, node: dict[str, Any], display: str | None = None) -> Member:
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
        abstract=_is_abstract(system, properties),
        inactive=inactive,
        parents=tuple(system.parents.get(node["code"], [])),
        language=system.resource.get("language"),
    )


NOT_SELECTABLE = "http://hl7.org/fhir/concept-properties#notSelectable"


def _not_selectable(system: CodeSystemIndex) -> tuple[str, ...]:
    """The property codes that mean ``notSelectable`` in this code system: its own name for the
    standard property (by ``uri``), and ``notSelectable`` itself."""
    names: tuple[str, ...] | None = system.memo.get("not-selectable")
    if names is None:
        declared = [p["code"] for p in system.resource.get("property", []) if p.get("uri") == NOT_SELECTABLE]
        names = system.memo["not-selectable"] = tuple(dict.fromkeys(["notSelectable", *declared]))
    return names


def _is_abstract(system: CodeSystemIndex, properties: dict[str, dict[str, Any]]) -> bool:
    return any(properties.get(name, {}).get("valueBoolean") is True for name in _not_selectable(system))


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


def _filtered(system: CodeSystemIndex, codes: list[str], rule: dict[str, Any]) -> list[str]:
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


def _filtered_system(system: CodeSystemIndex, rules: list[dict[str, Any]], budget: Budget) -> list[Member]:
    """The system's concepts through ``rules``, each chain of filters worked out once per
    index: a value set that repeats an expensive filter (or a client that repeats the value
    set) pays for it once."""
    Chain = tuple[tuple[str, str, str], ...]
    memo: dict[Chain, tuple[list[str], list[Member]]] = system.memo.setdefault("filters", {})
    chain: Chain = ()
    found = memo.pop(chain, None)
    if found is None:
        codes = _in_order(system)
        found = (codes, [_member(system, system.concepts[code]) for code in codes])
    memo[chain] = found
    for rule in rules:
        budget.check_time()
        chain = (*chain, (str(rule.get("property", "")), str(rule.get("op", "")), str(rule.get("value"))))
        known = memo.pop(chain, None)
        if known is None:
            codes = _filtered(system, found[0], rule)
            keep = set(codes)
            known = (codes, [m for m in found[1] if m.code in keep])
        found = memo[chain] = known  # re-inserted: the newest last
        while len(memo) > FILTER_MEMO:
            memo.pop(next(iter(memo)), None)
    return found[1]


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
            members = [_member(system, system.concepts[code], display) for code, display in listed]
            codes = [m.code for m in members]
            for rule in part.get("filter", []):
                terms.budget.check_time()
                codes = _filtered(system, codes, rule)
            keep = set(codes)
            sets.append([m for m in members if m.code in keep])
        else:
            sets.append(_filtered_system(system, part.get("filter", []), terms.budget))
    for reference in part.get("valueSet", []):
        if reference in seen:
            raise CircularValueSetError(f"The value set {reference} imports itself")
        imported = _contained(contained, reference) or _imported(terms, reference)
        if not reference.startswith("#"):
            terms.note("used-valueset", _canonical(imported))
            terms.note_status(imported, _canonical(imported))
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
    strict = _compose_parameter(value_set, "versionsMatch") in (False, "false")
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
) -> dict[str, Any]:
    """The value set with its ``expansion`` (``activeOnly``, ``filter``, ``count`` / ``offset``,
    the names: ``displayLanguage``, else the value set's own, else ``accept_language``, the
    HTTP header; ``includeDesignations``, ``designation``).

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
        asked.get("displayLanguage") or _compose_parameter(value_set, "displayLanguage") or accept_language
    )
    if language:
        asked["displayLanguage"] = _tidy_languages(str(language))
    wanted = asked.get("designation") or []
    names = Names(
        asked.get("displayLanguage"),
        designations=_true(asked.get("includeDesignations")),
        only=tuple(str(w) for w in (wanted if isinstance(wanted, list) else [wanted])),
        names_of=_designations_reader(
            concept_of := _concept_reader(terms), listed := _listed_concepts(value_set)
        ),
    )
    details = Details(asked=_listed(asked.get("property")), listed=listed)
    found = expansion_members(value_set, terms)
    members = found.members
    if _true(asked.get("activeOnly")):
        members = [m for m in members if not m.inactive]
    text = asked.get("filter")
    if text:
        members = filtered_for_typing(members, str(text), names=names)
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
    terms.note_status(value_set, _canonical(value_set), drafts=False)
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


def filtered_for_typing(members: list[Member], text: str, *, names: Names | None = None) -> list[Member]:
    """The members whose display contains ``text`` (accents and case ignored, as in every
    search of Concordance): those whose display starts with it first, then those with a
    word starting with it, then the rest — what someone typing "gri" expects at the top —
    each group in the code system's order. ``names`` asking a language searches the displays
    in that language, the ones the expansion shows.

    >>> griffe, grippe = Member("s", "1", "Maladie des griffes"), Member("s", "2", "Grippe aviaire")
    >>> [m.code for m in filtered_for_typing([Member("s", "3", "Agrippé"), griffe, grippe], "GRI")]
    ['2', '1', '3']
    >>> english = Names("en", names_of=lambda m: [{"language": "en", "value": "Avian flu"}])
    >>> [m.code for m in filtered_for_typing([griffe, grippe], "flu", names=english)]
    ['1', '2']
    """
    return _search_text(members, names).ranked(fold(text).replace("\n", " "))


class SearchText:
    """The members' searchable displays joined into one string, so that finding a filter's
    text is ``str.find`` over it (C speed) rather than a Python test per member: 3.6 ms per
    request over CIM-11's 36,044 concepts came down to well under 1 ms."""

    def __init__(self, members: list[Member], texts: list[str] | None = None) -> None:
        self.members = members
        self.texts = texts if texts is not None else [member.searchable for member in members]
        self.starts: list[int] = []
        position = 0
        for searchable in self.texts:
            self.starts.append(position)
            position += len(searchable) + 1
        self.text = "\n".join(self.texts)

    def ranked(self, wanted: str) -> list[Member]:
        """Members whose searchable display contains ``wanted`` (folded): those starting with
        it, then those with a word starting with it, then the rest, each in order."""
        first: list[Member] = []
        word: list[Member] = []
        inside: list[Member] = []
        members, texts, at_word = self.members, self.texts, " " + wanted
        for number, at in self._occurrences(wanted):
            if at == 1:  # right after the leading space: the display starts with it
                first.append(members[number])
            elif texts[number][at - 1] == " " or at_word in texts[number]:
                word.append(members[number])
            else:
                inside.append(members[number])
        return first + word + inside

    def _occurrences(self, wanted: str) -> Iterable[tuple[int, int]]:
        """(member number, where its text first has ``wanted``), in order: from the members
        holding the rarest of its three-letter pieces when it has any and the list is long,
        else from one pass of ``str.find`` over the joined text."""
        if len(wanted) >= TRIGRAM and len(self.members) >= TRIGRAMS_FROM:
            pieces = self.trigrams
            candidates = min(
                (pieces.get(wanted[i : i + TRIGRAM], NONE) for i in range(len(wanted) - 2)), key=len
            )
            texts = self.texts
            for number in candidates:
                at = texts[number].find(wanted)
                if at >= 0:
                    yield number, at
            return
        text, starts = self.text, self.starts
        last = len(starts) - 1
        at = text.find(wanted) if wanted else -1
        while at >= 0:
            number = bisect.bisect_right(starts, at) - 1
            yield number, at - starts[number]
            at = text.find(wanted, starts[number + 1]) if number < last else -1

    @cached_property
    def trigrams(self) -> dict[str, array[int]]:
        """Each three-letter piece of the searchable texts, with the members having it (one
        flat array each: no Python object per entry for the collector to walk). Built once per
        kept list, ~1 s for CIM-11's 36,044 concepts; a filter then reads the few hundred
        members of its rarest piece instead of scanning 1.6 million characters: the scan was
        most of a type-ahead request."""
        pieces: dict[str, array[int]] = {}
        for number, searchable in enumerate(self.texts):
            for piece in {searchable[i : i + TRIGRAM] for i in range(len(searchable) - 2)}:
                found = pieces.get(piece)
                if found is None:
                    found = pieces[piece] = array("I")
                found.append(number)
        return pieces


TRIGRAM = 3
TRIGRAMS_FROM = 2_000
"""Lists shorter than this are scanned: indexing them would cost more than it saves."""
NONE: array[int] = array("I")


LanguageKey = tuple[tuple[tuple[frozenset[str], frozenset[str]], ...], bool]
"""What a ``displayLanguage`` means for one list of members: per language asked, the code
systems' own languages and the designation languages it matches, and whether every other
language is refused."""

_SEARCH_TEXTS: OrderedDict[tuple[int, LanguageKey | None], SearchText] = OrderedDict()
_SPOKEN: OrderedDict[int, tuple[list[Member], frozenset[str], frozenset[str], bool]] = OrderedDict()
_SEARCH_LOCK = threading.Lock()
SEARCH_TEXTS_KEPT = 8


def _search_text(members: list[Member], names: Names | None = None) -> SearchText:
    """The joined text of ``members`` (their displays in the language ``names`` asks), kept
    for the lists a worker keeps (a stored version's members, an is-a subtree): the same list
    object asked again in the same language reuses it.

    The entry is keyed by what the language *means* for these members, not by how it was
    spelt: ``fr-FR``, ``FR``, ``fr;q=1.0`` and ``fr, en;q=0.5`` on a French code system all
    name the same displays, so they share one entry, and a language the members do not have
    is the default. A client cycling spellings can then never evict another's warm entry."""
    key = _language_key(members, names.language, names) if names else None
    with _SEARCH_LOCK:
        found = _SEARCH_TEXTS.get((id(members), key))
        if found is not None and found.members is members:
            _SEARCH_TEXTS.move_to_end((id(members), key))
            return found
    texts = None
    if names is not None and key is not None:
        texts = [" " + fold(names.of(member)[0] or "").replace("\n", " ") for member in members]
    built = SearchText(members, texts)
    with _SEARCH_LOCK:
        _SEARCH_TEXTS[(id(members), key)] = built
        while len(_SEARCH_TEXTS) > SEARCH_TEXTS_KEPT:
            _SEARCH_TEXTS.popitem(last=False)
    return built


def _language_key(members: list[Member], asked: str | None, names: Names | None = None) -> LanguageKey | None:
    """What ``asked`` (Accept-Language style) means for ``members``; None when it names
    the displays they already have (or no language they have).

    A tag is replaced by the languages it matches among the members' own and their
    designations' (so ``fr-FR`` and ``FR`` both become ``{fr}``); tags matching none are
    dropped, a repeat adds nothing, and after a tag matching every member's own language
    nothing later can be chosen.

    >>> members = [Member("urn:s", "1", "Grippe", language="fr")]
    >>> _language_key(members, "fr-FR") == _language_key(members, "FR") == _language_key(members, "fr;q=1.0")
    True
    >>> _language_key(members, "fr-FR"), _language_key(members, "de"), _language_key(members, "de, *; q=0")
    (None, None, ((), True))
    """
    if not asked:
        return None
    own, spoken, all_named = _languages_of(members, names)
    refused = only_languages_asked(asked)
    meant: list[tuple[frozenset[str], frozenset[str]]] = []
    for tag in languages_asked(asked):
        matched = (
            frozenset(language for language in own if same_language(language, tag)),
            frozenset(language for language in spoken if same_language(language, tag)),
        )
        if not any(matched) or matched in meant:
            continue
        meant.append(matched)
        if own and matched[0] == own and all_named:
            break
    if not refused and (not meant or (meant[0][0] == own and own and all_named)):
        return None
    return tuple(meant), refused


def _languages_of(members: list[Member], names: Names | None) -> tuple[frozenset[str], frozenset[str], bool]:
    """The members' own languages, their designations' languages and whether every member
    has a display, read once per kept list."""
    with _SEARCH_LOCK:
        found = _SPOKEN.get(id(members))
        if found is not None and found[0] is members:
            return found[1], found[2], found[3]
    own = frozenset(m.language.lower() for m in members if m.language)
    spoken: set[str] = set()
    if names is not None:
        for member in members:
            spoken.update(str(d["language"]).lower() for d in names.names_of(member) if d.get("language"))
    result = own, frozenset(spoken), all(m.display for m in members)
    with _SEARCH_LOCK:
        _SPOKEN[id(members)] = (members, *result)
        while len(_SPOKEN) > SEARCH_TEXTS_KEPT:
            _SPOKEN.popitem(last=False)
    return result


def _listed_concepts(value_set: dict[str, Any]) -> dict[tuple[str, str], dict[str, Any]]:
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


def _compose_parameter(value_set: dict[str, Any], name: str) -> Any:
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
    terminology.publication.valueset.InvalidValueSetError: count and offset are whole numbers, 0 or more, ...
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


def _version_in(members: list[Member], system_url: str, coding: dict[str, Any]) -> str | None:
    """The version of ``system_url`` the value set drew the code from (a coding without a
    version is read in the version the value set pins), None when it does not say. A value set
    drawing on several versions reads a coding in the version it names, else in the version
    whose display it gives."""
    code, given = str(coding.get("code")), coding.get("version")
    drawn = {m.version for m in members if m.system == system_url}
    if given and given in drawn and len(drawn) > 1:
        return str(given)
    having = [m for m in members if m.system == system_url and m.code == code]
    versions = {m.version for m in having}
    if len(versions) > 1 and coding.get("display"):
        named = {m.version for m in having if m.display == coding["display"]}
        versions = named if len(named) == 1 else versions
    if not versions:
        versions = drawn
    return next(iter(versions)) if len(versions) == 1 else None


def _unknown_version(
    value_set: dict[str, Any], error: UnknownCodeSystemError, terms: Terminologies, coding: dict[str, Any],
    where: Where,
) -> Validation:  # fmt: skip
    """The value set draws on a code system version nobody has: the code cannot be
    validated (a ``result=false`` answer naming it, not a refusal of the request). The answer
    names the version the request meant (the coding's, a version rule's, else the latest), and
    a coding version other than the include's is a mismatch too."""
    text = str(error).replace("value set cannot be expanded", "code cannot be validated")
    system_url, code = coding.get("system"), str(coding.get("code"))
    missing = error.system or str(system_url or "")
    url, _, stated = missing.partition("|")
    url = system_url or url
    missing_id = UNKNOWN_VERSION if "|" in missing else "UNKNOWN_CODESYSTEM"
    issues = [Issue("error", "not-found", "not-found", text, where.of("system"), missing_id)]
    given = str(coding["version"]) if coding.get("version") else None
    if given and stated and given != stated:
        issues.insert(0, _mismatch_issue(value_set, terms, url, stated, given, where))
    meant = _meant_version(terms, url, given)
    return Validation(
        False, code, url, meant.version if meant else None, issues=tuple(issues), unknown_system=True,
        caused_by=missing, display=meant.concepts.get(code, {}).get("display") if meant else None,
        version_unread=True,
    )  # fmt: skip


def _meant_version(terms: Terminologies, url: str, given: str | None) -> CodeSystemIndex | None:
    """The version of ``url`` a request means when the value set's own is missing: the
    coding's, else the one a version rule asks for, else the latest."""
    ruled = replace(terms.versions, wanted={}).apply(url, None)
    for wanted in [v for v in (given, ruled) if v] + [None]:
        try:
            return terms.code_system(url, wanted)
        except UnknownCodeSystemError:
            continue
    return None


ABSOLUTE_URI = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*:")
"""A uri with a scheme; anything else in ``Coding.system`` is a local reference."""


def _without_system(coding: dict[str, Any], canonical: str, where: Where) -> Validation:
    """A Coding with a code and no system: no defined meaning, so never in a value set."""
    text = (
        "Coding has no system. A code with no system has no defined meaning, and it cannot be validated."
        " A system should be provided"
    )
    warning = Issue(
        "warning", "invalid", "invalid-data", text, where.whole, "Coding_has_no_system__cannot_validate"
    )
    not_in = _not_in_value_set("", coding, canonical, where)
    return Validation(False, str(coding.get("code")), "", issues=(not_in, warning))


def _inferred_system(members: list[Member], code: str, canonical: str, where: Where) -> str | Validation:
    """The system of a ``code`` sent alone (``inferSystem``): the one system of the value set's
    concepts with that code; none or several is an answer saying so."""
    systems = sorted({m.system for m in members if m.code == code})
    if len(systems) == 1:
        return systems[0]
    text = f"The System URI could not be determined for the code '{code}' in the ValueSet '{canonical}'"
    if systems:
        text += f": value set expansion has multiple matches: [{', '.join(systems)}]"
        message_id = "Unable_to_resolve_system__value_set_has_multiple_matches"
    else:
        text += ": no concept of the value set has that code"
        message_id = "UNABLE_TO_INFER_CODESYSTEM"
    cannot = Issue("error", "not-found", "cannot-infer", text, where.of("code"), message_id)
    not_in = _not_in_value_set("", {"code": code}, canonical, where)
    return Validation(False, code, "", issues=(not_in, cannot))


def _deprecated_in_value_set(
    value_set: dict[str, Any], system_url: str, code: str, where: Where
) -> Issue | None:
    """A warning when the value set lists the concept as deprecated (``valueset-deprecated``,
    or a deprecated or withdrawn standards status on the listed concept): valid, to review."""
    listed = _listed_concepts(value_set).get((system_url, code), {})
    for extension in listed.get("extension", ()):
        url, value = extension.get("url"), extension.get("valueBoolean", extension.get("valueCode"))
        if (url == VALUESET_DEPRECATED and value in (True, "true")) or (
            url == STANDARDS_STATUS and value in ("deprecated", "withdrawn")
        ):
            text = (
                f"The presence of the concept '{code}' in the system '{system_url}' in the value set"
                f" {_canonical(value_set)} is marked with a status of deprecated and its use should"
                " be reviewed"
            )
            return Issue("warning", "business-rule", "code-comment", text, where.of("code"),
                         CONCEPT_DEPRECATED_IN_VALUE_SET)  # fmt: skip
    return None


VALUESET_DEPRECATED = "http://hl7.org/fhir/StructureDefinition/valueset-deprecated"
CONCEPT_DEPRECATED_IN_VALUE_SET = "CONCEPT_DEPRECATED_IN_VALUESET"


def _outside_value_set(
    terms: Terminologies, coding: dict[str, Any], canonical: str, where: Where
) -> Validation:
    """A coding whose code system the value set does not draw on and nobody here has: not in
    the value set, and its system unknown (or a local reference, or a value set's url), said
    as the reference servers say it."""
    url, code, version = str(coding.get("system")), str(coding.get("code")), coding.get("version")
    named = f"{url}|{version}" if version else url
    issues = [_not_in_value_set(named, coding, canonical, where)]
    if not ABSOLUTE_URI.match(url):
        text = f"{where.of('system')} must be an absolute reference, not a local reference"
        issues.append(Issue("error", "invalid", "invalid-data", text, where.of("system"),
                            "Terminology_TX_System_Relative"))  # fmt: skip
    try:
        terms.value_set(url)
    except (UnknownValueSetError, InvalidValueSetError):
        issues.append(_unknown_coding_system(terms, url, version, where))
    else:
        text = f"The Coding references a value set, not a code system ('{url}')"
        issues.append(Issue("error", "invalid", "invalid-data", text, where.of("system"),
                            "Terminology_TX_System_ValueSet2"))  # fmt: skip
        return Validation(False, code, url, issues=tuple(issues))
    return Validation(
        False, code, url, issues=tuple(issues), unknown_system=True, caused_by=url,
        unknown_parameter="x-unknown-system",
    )  # fmt: skip


def _unknown_coding_system(terms: Terminologies, url: str, version: str | None, where: Where) -> Issue:
    """A coding's code system nobody has (or not in the version it names)."""
    if not version:
        shown = url if ABSOLUTE_URI.match(url) else f"'{url}'"
        text = f"A definition for CodeSystem {shown} could not be found, so the code cannot be validated"
        return Issue("error", "not-found", "not-found", text, where.of("system"), "UNKNOWN_CODESYSTEM")
    known = sorted({cs.version for cs in terms.code_systems if cs.url == url and cs.version}, key=version_key)
    text = (
        f"A definition for CodeSystem '{url}' version '{version}' could not be found, so the code"
        " cannot be validated"
    )
    if known:
        text += ". Valid versions: " + " or ".join(known)
        return Issue("error", "not-found", "not-found", text, where.of("system"), UNKNOWN_VERSION)
    text += ". No versions of this code system are known"
    return Issue("error", "not-found", "not-found", text, where.of("system"), UNKNOWN_VERSION + "_NONE")


def _version_refused(
    value_set: dict[str, Any], terms: Terminologies, coding: dict[str, Any], error: VersionCheckError,
    where: Where,
) -> Validation:  # fmt: skip
    """``check-system-version`` refuses the version the value set draws on: the answer names
    that version's concept, and a coding naming another version is a mismatch as well."""
    code, given = str(coding.get("code")), coding.get("version")
    text = str(error)
    issues = [
        Issue("error", "exception", "version-error", text, where.of("version"), "VALUESET_VERSION_CHECK")
    ]
    if given and error.version and given != error.version:
        issues.append(_mismatch_issue(value_set, terms, error.system, error.version, str(given), where))
    try:
        display = terms.code_system(error.system, error.version).concepts.get(code, {}).get("display")
    except UnknownCodeSystemError:
        display = None
    return Validation(False, code, error.system, error.version, display=display, issues=tuple(issues))


def _stated_version(value_set: dict[str, Any], system_url: str) -> tuple[bool, str | None]:
    """Whether the value set includes ``system_url`` exactly once, and the version it states."""
    parts = [p for p in value_set.get("compose", {}).get("include", []) if p.get("system") == system_url]
    return (True, parts[0].get("version")) if len(parts) == 1 else (False, None)


def _mismatch_issue(
    value_set: dict[str, Any], terms: Terminologies, system_url: str, pinned: str, given: str, where: Where
) -> Issue:
    """Which version the include meant, said the way the reference servers say it: as the value
    set states it, as a request's version rule changed it, or as a versionless include read it."""
    single, stated = _stated_version(value_set, system_url)
    applied = replace(terms.versions, wanted={}).apply(system_url, stated) if single else pinned
    meant, message_id = f"version '{pinned}'", "VALUESET_VALUE_MISMATCH"
    if single and applied is not None and applied != stated:
        meant = f"version '{applied}' resulting from the version '{stated or ''}'"
        message_id = "VALUESET_VALUE_MISMATCH_CHANGED"
    elif single and stated is None:
        meant, message_id = (
            f"version '{pinned}' for the versionless include",
            "VALUESET_VALUE_MISMATCH_DEFAULT",
        )
    text = (
        f"The code system '{system_url}' {meant} in the ValueSet include is different to the"
        f" one in the value ('{given}')"
    )
    return Issue("error", "invalid", "vs-invalid", text, where.of("version"), message_id)


def _version_mismatch(
    value_set: dict[str, Any],
    terms: Terminologies,
    coding: dict[str, Any],
    system_url: str,
    pinned: str,
    where: Where,
) -> Validation:
    """The coding names one version of its code system, the value set draws on another: the
    code is not validated against a version the value set does not mean."""
    issues = [_mismatch_issue(value_set, terms, system_url, pinned, str(coding["version"]), where)]
    missing = _missing_version(terms, system_url, str(coding["version"]), where)
    if missing is not None:  # and the version the coding names does not exist either
        if issues[0].message_id.endswith("_DEFAULT"):  # a versionless include took any version:
            issues[0] = replace(issues[0], severity="warning")  # the unknown one is the error
        issues.append(missing[0])
    system = terms.code_system(system_url, pinned)
    node = system.concepts.get(str(coding.get("code")), {})
    code, display = str(coding.get("code")), node.get("display")
    return Validation(
        False, code, system_url, pinned, display=display, issues=tuple(issues),
        unknown_system=missing is not None, caused_by=missing[1] if missing else None,
    )  # fmt: skip


def _missing_version(terms: Terminologies, url: str, version: str, where: Where) -> tuple[Issue, str] | None:
    """The issue (and the ``url|version`` it is about) when no one has that version of the code system."""
    try:
        terms.code_system(url, version)
    except UnknownCodeSystemError as error:
        text = str(error).replace("value set cannot be expanded", "code cannot be validated")
        issue = Issue("error", "not-found", "not-found", text, where.of("system"), UNKNOWN_VERSION)
        return issue, error.system or f"{url}|{version}"
    return None


NOT_IN_VALUE_SET = "None_of_the_provided_codes_are_in_the_value_set_one"
UNKNOWN_VERSION = "UNKNOWN_CODESYSTEM_VERSION"
UNRESOLVED_VALUE_SET = "Unable_to_resolve_value_Set_"
SEVERITY_ORDER = {"fatal": 0, "error": 1, "warning": 2, "information": 3}


def _canonical(value_set: dict[str, Any]) -> str:
    return str(value_set.get("url", "")) + (f"|{value_set['version']}" if value_set.get("version") else "")


def _inactive_refused(
    checked: Validation, system_url: str, coding: dict[str, Any], canonical: str, where: Where
) -> Validation:
    """``activeOnly``: an inactive concept is valid in its code system but not in the value set."""
    text = f"The concept '{checked.code}' is valid but is not active"
    refused = Issue("error", "business-rule", "code-rule", text, where.of("code"), "STATUS_CODE_WARNING_CODE")
    not_in = _not_in_value_set(system_url, coding, canonical, where)
    return replace(checked, result=False, issues=(refused, not_in, *checked.issues))


def _abstract_refused(
    checked: Validation, system_url: str, coding: dict[str, Any], canonical: str, where: Where
) -> Validation:
    """``abstract=false``: an abstract concept is in the value set but not usable where asked."""
    text = f"Code '{system_url}#{checked.code}' is abstract, and not allowed in this context"
    refused = Issue(
        "error", "business-rule", "code-rule", text, where.of("code"), "ABSTRACT_CODE_NOT_ALLOWED"
    )
    not_in = _not_in_value_set(system_url, coding, canonical, where)
    return replace(checked, result=False, issues=(refused, not_in, *checked.issues))


def _not_in_value_set(system_url: str, coding: dict[str, Any], canonical: str, where: Where) -> Issue:
    if coding.get("version") and "|" not in system_url:  # the version the coding names
        system_url = f"{system_url}|{coding['version']}"
    shown = f"{system_url}#{coding.get('code')}" + (
        f" ('{coding['display']}')" if coding.get("display") else ""
    )
    text = f"The provided code '{shown}' was not found in the value set '{canonical or '(unidentified)'}'"
    return Issue("error", "code-invalid", "not-in-vs", text, where.of("code"), NOT_IN_VALUE_SET)


def _in_value_set(result: Validation) -> bool:
    return not result.unknown_system and not any(i.kind == "not-in-vs" for i in result.issues)


def _as_information(issue: Issue) -> Issue:
    """Within a CodeableConcept one coding outside the value set is not itself an error:
    the concept is judged on all its codings."""
    if issue.kind != "not-in-vs":
        return issue
    return Issue(
        "information", issue.code, "this-code-not-in-vs", issue.text, issue.expression, issue.message_id
    )


def concept_in_value_set(value_set: dict[str, Any], results: list[Validation]) -> Validation:
    """A CodeableConcept (``results``: one per coding, in order) is in the value set when
    one of its codings is; every coding's own findings still count, as the reference servers
    report them: a coding outside the value set is information, an unknown code an error,
    and when no coding is in the value set the concept as a whole is.

    The answer names the coding found in the value set (code, system, version, display);
    with none, it names no coding.
    """
    unresolved = next((i for r in results for i in r.issues if i.message_id == UNRESOLVED_VALUE_SET), None)
    if unresolved is not None:  # the value set itself cannot be read: nothing to say of the codings
        return Validation(False, "", "", issues=(unresolved,))
    issues = sorted(
        dict.fromkeys(_as_information(i) for result in results for i in result.issues),  # once each
        key=lambda issue: SEVERITY_ORDER.get(issue.severity, 9),
    )
    members = [result for result in results if _in_value_set(result)]
    chosen = next((r for r in members if r.result), members[0] if members else None)
    unknown = next((r for r in results if r.unknown_system), None)
    missing = next((r for r in results if any(i.message_id == UNKNOWN_VERSION for i in r.issues)), None)
    if chosen is None and missing is not None and len(results) == 1:
        # the one coding could not be checked (a version nobody has): its own answer stands,
        # naming the concept only when the value set's version of it was read
        read = not missing.version_unread
        return replace(missing, issues=tuple(issues), code=missing.code if read else "",
                       system=missing.system if read else "")  # fmt: skip
    if chosen is None:
        text = f"No valid coding was found for the value set '{_canonical(value_set)}'"
        general = Issue("error", "code-invalid", "not-in-vs", text, "", "TX_GENERAL_CC_ERROR_MESSAGE")
        return Validation(
            False, "", "", issues=(general, *issues), unknown_system=unknown is not None,
            caused_by=(unknown.caused_by or unknown.system) if unknown else None,
            unknown_parameter=unknown.unknown_parameter if unknown else "x-caused-by-unknown-system",
        )  # fmt: skip
    return Validation(
        result=not any(i.severity in ("error", "fatal") for i in issues), code=chosen.code,
        system=chosen.system, version=chosen.version, display=chosen.display, status=chosen.status,
        inactive=chosen.inactive, issues=tuple(issues), unknown_system=unknown is not None,
        caused_by=(unknown.caused_by or unknown.system) if unknown else None,
        unknown_parameter=unknown.unknown_parameter if unknown else "x-caused-by-unknown-system",
    )  # fmt: skip


def validate_in_value_set(
    value_set: dict[str, Any],
    terms: Terminologies,
    coding: dict[str, Any],
    where: Where,
    rules: ValidationOptions | None = None,
) -> Validation:
    """Is the coding in the value set (and right in its code system)? The answer also says,
    as information, which of the code systems and value sets behind it are draft,
    experimental, deprecated or withdrawn. Displays are judged in the language the request
    asks, else the value set's own (its ``displayLanguage`` expansion parameter, its
    ``language``)."""
    rules = rules or ValidationOptions()
    if rules.language is None:  # the value set's own language, when the request names none
        own = _compose_parameter(value_set, "displayLanguage") or value_set.get("language")
        rules = replace(rules, language=str(own)) if own else rules
    try:
        found = _membership(value_set, terms, coding, where, rules)
    except UnknownValueSetError as error:  # an imported value set nobody has
        issue = Issue("error", "not-found", "not-found", str(error), "", UNRESOLVED_VALUE_SET)
        return Validation(
            False, str(coding.get("code") or ""), str(coding.get("system") or ""), issues=(issue,)
        )
    terms.note_status(value_set, _canonical(value_set), drafts=False)
    notes = tuple(i for i in terms.status_issues() if i not in found.issues)
    return replace(found, issues=notes + found.issues) if notes else found


def _membership(value_set: dict[str, Any], terms: Terminologies, coding: dict[str, Any], where: Where,
                rules: ValidationOptions) -> Validation:  # fmt: skip
    """The coding checked against the value set's members and its code system."""
    system_url, code = coding.get("system"), coding.get("code")
    canonical = _canonical(value_set)
    if coding.get("version") and system_url:
        versions = replace(terms.versions, wanted={str(system_url): str(coding["version"])})
        terms = replace(terms, versions=versions)
    try:
        members = expansion_members(value_set, terms).members
    except UnknownCodeSystemError as error:  # the value set names a version nobody has
        if system_url and str(error.system).partition("|")[0] != system_url:  # and another system
            return _outside_value_set(terms, coding, canonical, where)
        return _unknown_version(value_set, error, terms, coding, where)
    except VersionCheckError as error:  # the request's check-system-version refuses it
        return _version_refused(value_set, terms, coding, error, where)
    if not system_url and where.prefix:  # a Coding without system means nothing to check
        return _without_system(coding, canonical, where)
    if not system_url:  # a code alone: the system of the value set's concept with that code
        inferred = _inferred_system(members, str(code), canonical, where)
        if isinstance(inferred, Validation):
            return inferred
        system_url = inferred
    pinned = _version_in(members, system_url, coding)
    if coding.get("version") and pinned and coding["version"] != pinned:
        return _version_mismatch(value_set, terms, coding, system_url, pinned, where)
    version = coding.get("version") or pinned
    try:
        system = terms.code_system(system_url, version)
    except UnknownCodeSystemError:  # a system the value set does not draw on, and nobody has
        return _outside_value_set(terms, coding, canonical, where)
    checked = validate_code(system, str(code), display=coding.get("display"), where=where, rules=rules)
    wanted = checked.normalized_code or code
    drawn = {m.version for m in members if m.system == system.url}
    member = any(  # of the version read, when the value set draws on several
        m.system == system.url and m.code == wanted and (len(drawn) < 2 or m.version == system.version)
        for m in members
    )
    if rules.membership_only:  # the code system's own findings are not asked for
        checked = replace(checked, result=member, issues=(), display=checked.display if member else None)
    if (
        member
        and not rules.abstract_allowed
        and any(m.abstract for m in members if m.system == system.url and m.code == wanted)
    ):
        return _abstract_refused(checked, system.url, coding, canonical, where)
    if member or checked.in_fragment:
        if rules.active_only and checked.inactive:
            return _inactive_refused(checked, system.url, coding, canonical, where)
        deprecated = _deprecated_in_value_set(value_set, system.url, str(wanted), where)
        return replace(checked, issues=(*checked.issues, deprecated)) if deprecated else checked
    if checked.inactive and (value_set.get("compose") or {}).get("inactive") is False:
        return _inactive_refused(checked, system.url, coding, canonical, where)  # the value set says so
    not_in = _not_in_value_set(system.url, coding, canonical, where)
    return Validation(
        result=False, code=str(code), system=system.url, version=system.version, display=checked.display,
        status=checked.status, inactive=checked.inactive, issues=(not_in, *checked.issues),
    )  # fmt: skip
