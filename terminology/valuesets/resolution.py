"""Which code systems, versions, supplements and value sets a request means: those it
sends (``tx-resource``), then the stored ones, under the request's version rules."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from terminology.valuesets.code_validation import (
    STANDARDS_STATUS,
    Issue,
)
from terminology.valuesets.errors import (
    InvalidValueSetError,
    SupplementMissingError,
    UnknownCodeSystemError,
    UnknownValueSetError,
    VersionCheckError,
)
from terminology.valuesets.limits import Budget
from terminology.valuesets.lookup import (
    CodeSystemIndex,
)
from terminology.versions import is_wildcard, matches_wildcard, pick_version, version_key

URI_PARAMETERS = (
    "system-version",
    "force-system-version",
    "check-system-version",
    "default-valueset-version",
)
"""Parameters given as ``url|version`` and echoed only when they decided a version."""


def canonical_of(value_set: dict[str, Any]) -> str:
    return str(value_set.get("url", "")) + (f"|{value_set['version']}" if value_set.get("version") else "")


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


@dataclass(frozen=True, slots=True)
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
