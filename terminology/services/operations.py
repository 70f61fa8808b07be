"""Terminology operations: ``$lookup``, CodeSystem and ValueSet ``$validate-code``,
``$expand`` — which code system or value set a request means (what it sent first, then
the stored versions, by :mod:`terminology.versions`), and the per-process cache of
indexed stored versions. ``$translate`` is :mod:`terminology.services.translation`.

The FHIR API parses the parameters and renders the answers; the rules of each operation
are in :mod:`terminology.valuesets`.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import polars as pl

from terminology.backends import Backends
from terminology.errors import CodeSystemNotFoundError
from terminology.models import CodeSystem, DesignationUse
from terminology.services.value_sets import stored_value_set
from terminology.valuesets.code_validation import (
    Validation,
    ValidationOptions,
    Where,
    unknown_code_system,
    validate_code,
)
from terminology.valuesets.expansion import expand
from terminology.valuesets.limits import Budget
from terminology.valuesets.lookup import PREFERRED, CodeSystemIndex, lookup
from terminology.valuesets.membership import concept_in_value_set, validate_in_value_set
from terminology.valuesets.resolution import Terminologies, VersionRules, require_supplements
from terminology.valuesets.typeahead import TypeaheadIndex
from terminology.versions import is_wildcard, pick_version

__all__ = [
    "Sent",
    "StoredCodeSystems",
    "expand_value_set",
    "lookup_code",
    "validate_codings",
    "validate_in_code_system",
]


@dataclass(frozen=True)
class Sent:
    """The resources a request carries (``tx-resource``, ``valueSet``, ``codeSystem``), used
    before stored ones of the same url."""

    code_systems: tuple[CodeSystemIndex, ...] = ()
    value_sets: tuple[dict[str, Any], ...] = ()

    @classmethod
    def of(cls, resources: Iterable[Any], *, code_systems: Iterable[Any] = ()) -> Sent:
        """``resources`` of any type (only CodeSystems and ValueSets are kept) and
        ``code_systems`` sent as such (a ``codeSystem`` parameter)."""
        given = [resource for resource in resources if isinstance(resource, dict)]
        return cls(
            code_systems=tuple(
                CodeSystemIndex(resource)
                for resource in [
                    *(r for r in given if r.get("resourceType") == "CodeSystem"),
                    *(r for r in code_systems if isinstance(r, dict)),
                ]
            ),
            value_sets=tuple(r for r in given if r.get("resourceType") == "ValueSet"),
        )

    def code_system(self, url: str, version: str | None) -> CodeSystemIndex | None:
        """The sent version of ``url`` meant by ``version`` (supplements are not code systems)."""
        same = [
            cs for cs in self.code_systems if cs.url == url and cs.resource.get("content") != "supplement"
        ]
        return pick_version(same, version, version_of=lambda cs: cs.version)

    def supplement(self, url: str, version: str | None) -> CodeSystemIndex | None:
        """The sent version of ``url``, supplement or not."""
        same = [cs for cs in self.code_systems if cs.url == url]
        return pick_version(same, version, version_of=lambda cs: cs.version)


def split_canonical(url: str, version: str | None = None) -> tuple[str, str | None]:
    """``url|version`` as (url, version); an explicit ``version`` wins over the pinned one.

    >>> split_canonical("http://loinc.org|2.80"), split_canonical("http://loinc.org", "2.81")
    (('http://loinc.org', '2.80'), ('http://loinc.org', '2.81'))
    """
    url, _, pinned = url.partition("|")
    return url, version or pinned or None


def code_system_for(
    store: Backends, sent: Sent, url: str, version: str | None, code: str, *, supplements: bool = False
) -> CodeSystemIndex | None:
    """The code system a request means: the version it sent, else the stored one (with just
    what ``code`` needs read from the database). ``supplements``: a sent supplement counts
    (validation then says it cannot be used as a code system)."""
    chosen = sent.supplement(url, version) if supplements else sent.code_system(url, version)
    return chosen or concept_index(store, url, version, code)


def lookup_code(
    store: Backends,
    sent: Sent,
    *,
    system: str,
    code: str,
    version: str | None = None,
    supplements: Sequence[str] = (),
    properties: set[str] | None = None,
    display_language: str | None = None,
) -> list[dict[str, Any]]:
    """``$lookup``: the ``Parameters.parameter`` list for ``code`` of ``system``."""
    system, version = split_canonical(system, version)
    chosen = code_system_for(store, sent, system, version, code)
    if chosen is None:
        wanted = f"{system}|{version}" if version else system
        raise CodeSystemNotFoundError(f"A definition for CodeSystem '{wanted}' could not be found")
    found = []
    for wanted_supplement in supplements:
        supplement = sent.supplement(*split_canonical(wanted_supplement))
        if supplement is None:
            raise CodeSystemNotFoundError(f"Required supplement not found: {wanted_supplement}")
        found.append(supplement)
    return lookup(
        chosen, code, supplements=tuple(found), properties=properties, display_language=display_language
    )


def validate_in_code_system(
    store: Backends,
    sent: Sent,
    codings: Sequence[tuple[dict[str, Any], Where]],
    *,
    default_system: str | None,
    rules: ValidationOptions | None = None,
) -> Validation:
    """CodeSystem ``$validate-code`` of one coding, or of a CodeableConcept's codings (valid
    when one of them is: the answer speaks of that one)."""
    return _first_valid(
        [
            _validate_one(store, sent, coding, where, default_system, rules or ValidationOptions())
            for coding, where in codings
        ]
    )


def _validate_one(
    store: Backends,
    sent: Sent,
    coding: dict[str, Any],
    where: Where,
    default_system: str | None,
    rules: ValidationOptions,
) -> Validation:
    system, version = split_canonical(str(coding.get("system") or default_system), coding.get("version"))
    code = str(coding["code"])
    chosen = code_system_for(store, sent, system, version, code, supplements=True)
    if chosen is None:
        return unknown_code_system(system, version, _known_versions(store, sent, system), code)
    return validate_code(chosen, code, display=coding.get("display"), where=where, rules=rules)


def _known_versions(store: Backends, sent: Sent, url: str) -> list[str]:
    stored = [system.version for system in store.code_systems() if system.url == url]
    return sorted({v for v in [cs.version for cs in sent.code_systems if cs.url == url] + stored if v})


def _first_valid(results: list[Validation]) -> Validation:
    return next((result for result in results if result.result), results[0])


@dataclass
class ValueSetRequest:
    """What a ValueSet operation works with: the value set, and where its code systems and
    nested value sets come from."""

    value_set: dict[str, Any]
    terminologies: Terminologies = field(repr=False)
    typeahead: TypeaheadIndex | None = field(default=None, repr=False)
    """Where a ``filter``'s joined texts are kept (the cache's), None to build them per call."""


def value_set_request(
    sent: Sent,
    stored: StoredCodeSystems,
    budget: Budget,
    *,
    value_set: dict[str, Any] | None = None,
    url: str | None = None,
    version: str | None = None,
    versions: VersionRules | None = None,
    supplements: Sequence[str] = (),
    value_set_versions: Sequence[str] = (),
) -> ValueSetRequest:
    """The value set sent (``valueSet``) or named (``url``, ``valueSetVersion``) among those
    the request carries, with the code systems it may draw on (``supplements``: those the
    request requires, ``useSupplement``; ``value_set_versions``: ``default-valueset-version``
    values, ``url|version``)."""
    terms = Terminologies(
        code_systems=list(sent.code_systems),
        value_sets=list(sent.value_sets),
        stored_code_system=stored.get,
        stored_value_set=lambda wanted, version: stored_value_set(stored.store, wanted, version),
        budget=budget,
        versions=versions or VersionRules(),
        value_set_versions=dict(str(v).partition("|")[::2] for v in value_set_versions if "|" in str(v)),
    )
    if value_set is None:
        assert url is not None, "the API asks for a url or a valueSet"
        value_set = terms.value_set(url, version)
    terms.supplements = require_supplements(value_set, terms, supplements)
    return ValueSetRequest(value_set, terms, stored.typeahead)


def expand_value_set(
    request: ValueSetRequest, parameters: Sequence[tuple[str, Any]], *, accept_language: str | None = None
) -> dict[str, Any]:
    """``$expand``: the ValueSet with its expansion (``parameters`` as asked: filter, count...;
    ``accept_language``: the HTTP header, the names' language when the request does not say)."""
    return expand(
        request.value_set,
        request.terminologies,
        parameters=list(parameters),
        accept_language=accept_language,
        typeahead=request.typeahead,
    )


def validate_codings(
    request: ValueSetRequest,
    codings: Sequence[tuple[dict[str, Any], Where]],
    *,
    rules: ValidationOptions | None = None,
) -> Validation:
    """ValueSet ``$validate-code`` of one coding or a CodeableConcept's codings (``rules``:
    the displays' language, leniency)."""
    results = [
        validate_in_value_set(request.value_set, request.terminologies, entry, where, rules)
        for entry, where in codings
    ]
    if any(where.prefix.startswith("CodeableConcept") for _, where in codings):
        return concept_in_value_set(request.value_set, results)
    return results[0]


class StoredCodeSystems:
    """Stored versions indexed for ValueSet operations, shared by a process's requests,
    bounded by their number of concepts (least recently used out first).

    A stored version never changes (a re-import is a new version with a new id), so its
    index is built once. Without it every ``include`` of ICD-10-CM reloaded 47,200
    concepts. ``loads`` counts the indexes built, so tests and benchmarks see it work. The
    cache owns the type-ahead texts of the lists it keeps (:class:`TypeaheadIndex`).

    ``after_index`` runs after each index is built: the server passes ``gc.freeze`` there
    (an index lives as long as the process, and its half-million objects otherwise make
    every full collection walk them, ~150 ms holding the interpreter); a library user's
    interpreter is theirs, so by default nothing is done to it.
    """

    def __init__(
        self,
        store: Backends,
        *,
        max_concepts: int,
        recheck_seconds: float = 1.0,
        after_index: Callable[[], None] | None = None,
    ) -> None:
        self.store = store
        self.typeahead = TypeaheadIndex()
        self.after_index = after_index
        self.max_concepts = max_concepts
        self.recheck_seconds = recheck_seconds
        self.loads = 0
        self._found: dict[tuple[str, str | None], tuple[float, CodeSystem | None]] = {}
        self._lock = threading.Lock()
        self._building: dict[int, threading.Lock] = {}
        self._indexes: OrderedDict[int, tuple[int, CodeSystemIndex]] = OrderedDict()

    def get(self, url: str, version: str | None) -> CodeSystemIndex | None:
        """The indexed version (the latest when ``version`` is None), or None if not stored."""
        system = self._version(url, version)
        if system is None:
            return None
        with self._lock:
            building = self._building.setdefault(system.id, threading.Lock())
        with building:  # concurrent requests for one version build it once
            cached = self._cached(system.id)
            if cached is not None:
                return cached
            index = whole_index(self.store, system)
            if self.after_index is not None:
                self.after_index()
            with self._lock:
                self.loads += 1
                self._keep(system.id, system.concept_count, index)
            return index

    def _version(self, url: str, version: str | None) -> CodeSystem | None:
        """Which stored version ``url`` / ``version`` means, asked of the database at most
        once a second per pair (a type-ahead sends several requests a second): a version
        imported meanwhile, by this worker or another, is seen within that second."""
        now = time.monotonic()
        known = self._found.get((url, version))
        if known is not None and now - known[0] < self.recheck_seconds:
            return known[1]
        if is_wildcard(version):  # "1.x": the latest stored version that fits
            same_url = [found for found in self.store.code_systems() if found.url == url]
            system = pick_version(same_url, version, version_of=lambda found: found.version)
        else:
            system = self.store.find_code_system(url, version)
        with self._lock:
            if len(self._found) > 10_000:  # urls are the client's: keep the memo bounded
                self._found.clear()
            self._found[(url, version)] = (now, system)
        return system

    def _cached(self, system_id: int) -> CodeSystemIndex | None:
        with self._lock:
            found = self._indexes.get(system_id)
            if found is None:
                return None
            self._indexes.move_to_end(system_id)
            return found[1]

    def _keep(self, system_id: int, size: int, index: CodeSystemIndex) -> None:
        if size > self.max_concepts:
            return
        self._indexes[system_id] = (size, index)
        while sum(kept for kept, _ in self._indexes.values()) > self.max_concepts:
            self._indexes.popitem(last=False)


# ---------------------------------------------------------------- stored versions as FHIR resources
# ``$lookup`` and ``$validate-code`` need one concept with its parents and children
# (:func:`concept_index`: the same few queries however many it has); ``$expand`` needs the
# whole version (:func:`whole_index`, which :class:`StoredCodeSystems` keeps per process).

STORED_USE = "urn:concordance:designation-use"
"""Uses with no standard coding (ClaML inclusions and exclusions, abbreviations)."""
STANDARD_USES = {
    DesignationUse.PREFERRED: PREFERRED,
    DesignationUse.FULLY_SPECIFIED: {"system": "http://snomed.info/sct", "code": "900000000000003001",
                                     "display": "Fully specified name"},
    DesignationUse.SYNONYM: {"system": "http://snomed.info/sct", "code": "900000000000013009",
                             "display": "Synonym"},
    DesignationUse.DEFINITION: {"system": "http://snomed.info/sct", "code": "900000000000550004",
                                "display": "Definition"},
}  # fmt: skip
"""FHIR's designation-use codings (SNOMED CT description types, HL7 ``preferredForLanguage``)."""


def designation_use(use: DesignationUse) -> dict[str, str]:
    """A stored designation's use as a standard coding where FHIR has one, else ours.

    >>> designation_use(DesignationUse.SYNONYM)["code"], designation_use(DesignationUse.INCLUSION)
    ('900000000000013009', {'system': 'urn:concordance:designation-use', 'code': 'inclusion'})
    """
    return STANDARD_USES.get(use) or {"system": STORED_USE, "code": use.value}


def concept_index(store: Backends, url: str, version: str | None, code: str) -> CodeSystemIndex | None:
    """A stored version as a CodeSystem resource holding the code, its parents and children."""
    system = store.find_code_system(url, version)
    if system is None:
        return None
    concept = store.concept(system, code)
    if concept is None:  # the version, without the code: $lookup and $validate-code say it is unknown
        return CodeSystemIndex(
            {"url": system.url, "version": system.version, "name": system.name or system.url}
        )
    node: dict[str, Any] = {"code": concept.code}
    if concept.display:
        node["display"] = concept.display
    if concept.definition:
        node["definition"] = concept.definition
    node["designation"] = [
        {
            key: value
            for key, value in (
                ("language", d.language),
                ("use", designation_use(d.use)),
                ("value", d.value),
            )
            if value
        }
        for d in concept.designations
        if d.value != concept.display
    ]
    node["property"] = [{"code": key, "valueString": str(value)} for key, value in concept.properties.items()]
    if not concept.active:
        node["property"].append({"code": "status", "valueCode": "retired"})
    name = system.name or system.url
    resource: dict[str, Any] = {"url": system.url, "version": system.version, "name": name}
    if system.languages:
        resource["language"] = system.languages[0]
    index = CodeSystemIndex({**resource, "concept": [node]})
    children = store.children(system, code)
    displays = store.displays(system, [*concept.parents, *children])  # one query for both
    for parent in concept.parents:
        index.concepts[parent] = {"code": parent, "display": displays.get(parent)}
        index.parents.setdefault(code, []).append(parent)
    for child in children:
        index.concepts[child] = {"code": child, "display": displays.get(child)}
        index.children.setdefault(code, []).append(child)
    return index


def whole_index(store: Backends, system: CodeSystem) -> CodeSystemIndex:
    """A stored version with every concept and parent link, for value set expansion."""
    parents: dict[str, list[str]] = {}
    for code, parent in store.parents_frame(system).iter_rows():
        parents.setdefault(code, []).append(parent)
    names = _stored_designations(store, system)
    concepts = []
    for code, display, active in store.concept_frame(system).iter_rows():
        node: dict[str, Any] = {
            "code": code,
            "property": [{"code": "parent", "valueCode": p} for p in parents.get(code, [])],
        }
        if display:
            node["display"] = display
        others = [d for d in names.get(code, []) if d["value"] != display]
        if others:
            node["designation"] = others
        if not active:
            node["property"].append({"code": "status", "valueCode": "retired"})
        concepts.append(node)
    resource = {
        "url": system.url,
        "version": system.version,
        "name": system.name or system.url,
        "concept": concepts,
    }
    if system.languages:  # the displays' language: $expand's displayLanguage chooses by it
        resource["language"] = system.languages[0]
    return CodeSystemIndex(resource)


def _stored_designations(store: Backends, system: CodeSystem) -> dict[str, list[dict[str, Any]]]:
    """Every concept's other names, as FHIR designations (for ``includeDesignations`` and
    ``displayLanguage`` in expansions)."""
    found: dict[str, list[dict[str, Any]]] = {}
    frame = store.labels_frame(system).filter(pl.col("use") != "display")
    for code, label, language, use, _ in frame.iter_rows():
        entry = {"language": language, "use": designation_use(DesignationUse(use)), "value": label}
        found.setdefault(code, []).append({k: v for k, v in entry.items() if v})
    return found
