"""``CodeSystem/$lookup``: what a code system says of one code, as FHIR output parameters.

Works on a FHIR CodeSystem resource (R4 or R5 JSON: sent with a request, or built from a
stored version), with supplements adding designations. Derived properties follow the
FHIR concept properties: ``parent`` / ``child`` from the hierarchy, ``inactive`` from the
concept's status, ``abstract`` from ``notSelectable``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from terminology.errors import ConcordanceError

INACTIVE_STATUSES = {"retired", "inactive", "deprecated"}
PREFERRED = {
    "system": "http://terminology.hl7.org/CodeSystem/hl7TermMaintInfra",
    "code": "preferredForLanguage",
    "display": "Preferred For Language",
}
"""The use of the designation that repeats the display in the code system's language."""
VALUE_KEYS = ("valueCode", "valueCoding", "valueString", "valueInteger", "valueBoolean", "valueDateTime",
              "valueDecimal")  # fmt: skip


class UnknownCodeError(ConcordanceError):
    code = "not-found"
    http_status = 404
    fhir_issue = "not-found"


@dataclass
class CodeSystemIndex:
    """One code system version, flattened for lookups."""

    resource: dict[str, Any]
    concepts: dict[str, dict[str, Any]] = field(default_factory=dict)
    parents: dict[str, list[str]] = field(default_factory=dict)
    children: dict[str, list[str]] = field(default_factory=dict)
    memo: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)
    """Values derived from the version by the operations (value set members), kept with the
    index: a stored version's index is shared by every request of the worker."""

    def __post_init__(self) -> None:
        def walk(nodes: list[dict[str, Any]], parent: str | None) -> None:
            for node in nodes:
                code = node["code"]
                self.concepts[code] = node
                if parent is not None:
                    self.parents.setdefault(code, []).append(parent)
                    self.children.setdefault(parent, []).append(code)
                walk(node.get("concept", []), code)

        walk(self.resource.get("concept", []), None)
        for code, node in self.concepts.items():
            for prop in node.get("property", []):
                value = prop.get("valueCode")
                if prop.get("code") == "parent" and value and value not in self.parents.get(code, []):
                    self.parents.setdefault(code, []).append(value)
                    self.children.setdefault(value, []).append(code)

    @property
    def url(self) -> str:
        url: str = self.resource.get("url", "")
        return url

    @property
    def version(self) -> str | None:
        version: str | None = self.resource.get("version")
        return version

    @property
    def canonical(self) -> str:
        return f"{self.url}|{self.version}" if self.version else self.url


def _value(prop: dict[str, Any]) -> tuple[str, Any] | None:
    for key in VALUE_KEYS:
        if key in prop:
            return key, prop[key]
    return None


def _designation(entry: dict[str, Any], source: str | None = None) -> dict[str, Any]:
    parts: list[dict[str, Any]] = []
    if entry.get("language"):
        parts.append({"name": "language", "valueCode": entry["language"]})
    if entry.get("use"):
        use = {key: entry["use"][key] for key in ("system", "code", "display") if entry["use"].get(key)}
        parts.append({"name": "use", "valueCoding": use})
    if source:
        parts.append({"name": "source", "valueCanonical": source})
    parts.append({"name": "value", "valueString": entry.get("value", "")})
    return {"name": "designation", "part": parts}


def _property(code: str, value_key: str, value: Any, description: str | None = None) -> dict[str, Any]:
    parts: list[dict[str, Any]] = [{"name": "code", "valueCode": code}, {"name": "value", value_key: value}]
    if description:
        parts.insert(1, {"name": "description", "valueString": description})
    return {"name": "property", "part": parts}


def lookup(
    system: CodeSystemIndex,
    code: str,
    *,
    supplements: tuple[CodeSystemIndex, ...] = (),
    properties: set[str] | None = None,
    display_language: str | None = None,
) -> list[dict[str, Any]]:
    """The output parameters of ``$lookup`` for ``code`` (``properties``: None or ``*`` = all;
    otherwise ``definition`` and ``designation`` come only when asked, as R4 lists them among
    the properties). ``display_language`` (``fr``, ``en-GB, en;q=0.8``): the display is the
    code's designation in the first of those languages that has one.

    >>> cs = CodeSystemIndex({"url": "urn:x", "name": "X", "concept": [
    ...     {"code": "a", "display": "A", "concept": [{"code": "b", "display": "B"}]}]})
    >>> [p["name"] for p in lookup(cs, "b")]
    ['name', 'code', 'system', 'display', 'abstract', 'property', 'property']
    """
    node = system.concepts.get(code)
    if node is None:
        raise UnknownCodeError(f"Unknown code '{code}' in the CodeSystem '{system.canonical}'")
    wanted = None if properties is None or "*" in properties else properties

    def include(name: str) -> bool:
        return wanted is None or name in wanted

    out: list[dict[str, Any]] = [{"name": "name", "valueString": system.resource.get("name", system.url)}]
    if system.version:
        out.append({"name": "version", "valueString": system.version})
    out += [{"name": "code", "valueCode": code}, {"name": "system", "valueUri": system.url}]
    display = display_in(node, system.resource.get("language"), display_language) or node.get("display")
    if display:
        out.append({"name": "display", "valueString": display})
    own = {prop.get("code"): _value(prop) for prop in node.get("property", [])}
    selectable = own.get("notSelectable")
    out.append({"name": "abstract", "valueBoolean": bool(selectable and selectable[1] is True)})
    if node.get("definition") and include("definition"):
        out.append({"name": "definition", "valueString": node["definition"]})
    language = system.resource.get("language")
    if include("designation"):
        if node.get("display") and language:
            out.append(_designation({"language": language, "use": PREFERRED, "value": node["display"]}))
        out += [_designation(entry) for entry in node.get("designation", [])]
        for supplement in supplements:
            extra = supplement.concepts.get(code, {})
            out += [_designation(entry, supplement.canonical) for entry in extra.get("designation", [])]
    for prop in node.get("property", []):
        found = _value(prop)
        if found is not None and prop.get("code") not in ("parent", "child") and include(prop["code"]):
            out.append(_property(prop["code"], *found))
    status = own.get("status")
    inactive = own.get("inactive")
    if include("inactive"):
        is_inactive = bool(inactive and inactive[1] is True) or bool(
            status and status[1] in INACTIVE_STATUSES
        )
        out.append(_property("inactive", "valueBoolean", is_inactive))
    for relation, codes in (
        ("parent", system.parents.get(code, [])),
        ("child", system.children.get(code, [])),
    ):
        if include(relation):
            for other in codes:
                display = system.concepts.get(other, {}).get("display")
                out.append(_property(relation, "valueCode", other, display))
    for supplement in supplements:
        out.append({"name": "used-supplement", "valueCanonical": supplement.canonical})
    return out


NOT_A_DISPLAY = {"900000000000003001", "900000000000550004", "inclusion", "exclusion", "definition"}
"""Designation uses that are not a name to show (fully specified names, definitions, ClaML
inclusions and exclusions)."""


def languages_asked(text: str | None) -> list[str]:
    """The languages of a ``displayLanguage`` (an Accept-Language value), most wanted first.

    >>> languages_asked("en-GB, fr;q=0.9, de;q=0.95")
    ['en-gb', 'de', 'fr']
    """
    weighted = [
        (-quality, position, tag) for position, (tag, quality) in enumerate(_weighted(text)) if quality > 0
    ]
    return [tag for _, _, tag in sorted(weighted)]


def _weighted(text: str | None) -> list[tuple[str, float]]:
    """``"de, *; q=0"`` → ``[("de", 1.0), ("*", 0.0)]`` (spaces around ``;`` allowed)."""
    found = []
    for item in (text or "").split(","):
        tag, _, parameters = item.partition(";")
        name, _, weight = parameters.strip().partition("=")
        try:
            quality = float(weight) if name.strip() == "q" and weight else 1.0
        except ValueError:
            quality = 0.0
        if tag.strip():
            found.append((tag.strip().lower(), quality))
    return found


def only_languages_asked(text: str | None) -> bool:
    """Whether ``text`` refuses every other language (``de, *; q=0``): a concept without a
    name in one of them is shown with no display rather than the code system's.

    >>> only_languages_asked("de, *; q=0"), only_languages_asked("de"), only_languages_asked("de,*")
    (True, False, False)
    """
    return any(tag == "*" and quality == 0 for tag, quality in _weighted(text))


def display_in(node: dict[str, Any], system_language: str | None, asked: str | None) -> str | None:
    """The concept's name in the first language asked that has one (None: keep the display).

    >>> node = {"code": "1", "display": "Grippe", "designation": [
    ...     {"language": "en", "use": {"code": "900000000000003001"}, "value": "Influenza (disorder)"},
    ...     {"language": "en-US", "value": "Flu"}]}
    >>> display_in(node, "fr", "en"), display_in(node, "fr", "fr-FR"), display_in(node, "fr", "de")
    ('Flu', 'Grippe', None)
    """
    for tag in languages_asked(asked):
        if system_language and same_language(system_language, tag) and node.get("display"):
            return str(node["display"])
        for entry in node.get("designation", []):
            use = (entry.get("use") or {}).get("code")
            if entry.get("value") and same_language(entry.get("language"), tag) and use not in NOT_A_DISPLAY:
                return str(entry["value"])
    return None


def same_language(language: str | None, tag: str) -> bool:
    """``en`` matches ``en-US`` and the reverse; ``*`` matches any."""
    if not language:
        return False
    have, want = language.lower(), tag.lower()
    return want == "*" or have == want or have.startswith(want + "-") or want.startswith(have + "-")
