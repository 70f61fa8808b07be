"""What an expansion says about each concept beyond its names: properties and rendering hints.

R5 gives ``ValueSet.expansion.property`` (which properties the expansion shows, with their
URIs) and ``contains.property`` (each concept's values). An R4 server carries both as the
cross-version extensions (https://hl7.org/fhir/R5/versions.html#extensions), which R4 clients
ignore and the R5-aware ones (the HL7 validator, tx.fhir.org) read back as the R5 elements.

Shown without being asked, as the reference servers do: a concept's ``status`` unless
``active`` (its status property or its standards-status extension), its ``order``
(``codesystem-conceptOrder``), ``label`` and ``weight``, and the rendering extensions its code
system gives it. The ``property`` parameter asks for more: ``definition`` or any property the
code system declares.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from terminology.valuesets.code_validation import STANDARDS_STATUS
from terminology.valuesets.lookup import CodeSystemIndex

EXPANSION_PROPERTY = "http://hl7.org/fhir/5.0/StructureDefinition/extension-ValueSet.expansion.property"
CONTAINS_PROPERTY = (
    "http://hl7.org/fhir/5.0/StructureDefinition/extension-ValueSet.expansion.contains.property"
)
STANDARD = "http://hl7.org/fhir/concept-properties#"
STANDARD_URIS = {
    "status": STANDARD + "status",
    "order": STANDARD + "order",
    "label": STANDARD + "label",
    "weight": STANDARD + "itemWeight",
    "definition": STANDARD + "definition",
}
"""Property codes the expansion names by their standard URI when the code system declares none."""
_STRUCTURE = "http://hl7.org/fhir/StructureDefinition/"
FROM_EXTENSIONS = {
    _STRUCTURE + "codesystem-conceptOrder": ("order", "valueDecimal"),
    _STRUCTURE + "codesystem-label": ("label", "valueString"),
    _STRUCTURE + "itemWeight": ("weight", "valueDecimal"),
    STANDARDS_STATUS: ("status", "valueCode"),
}
"""Concept extensions shown as properties: the extension, the property code and its value type."""
COPIED_EXTENSIONS = (_STRUCTURE + "rendering-style", _STRUCTURE + "rendering-xhtml")
"""Concept extensions an expansion repeats on the concept's entry."""
FROM_LISTED = {
    _STRUCTURE + "valueset-conceptOrder": ("order", "valueDecimal"),
    _STRUCTURE + "valueset-label": ("label", "valueString"),
    _STRUCTURE + "itemWeight": ("weight", "valueDecimal"),
}
"""Extensions of a concept a value set lists (``compose.include.concept``) shown as properties,
in place of the code system's."""
COPIED_FROM_LISTED = (
    *COPIED_EXTENSIONS,
    _STRUCTURE + "valueset-deprecated",
    _STRUCTURE + "valueset-concept-definition",
    STANDARDS_STATUS,
)
"""Extensions of a listed concept the expansion repeats (the value set's own say)."""

Value = tuple[str, Any]
"""A property value as FHIR writes it: ``("valueCode", "retired")``."""


def shows_details(system: CodeSystemIndex) -> bool:
    """Whether any concept of ``system`` has something shown unasked (worked out once per
    index): expanding a system without any, CIM-11 among them, reads no concept twice."""
    found: bool | None = system.memo.get("shows-details")
    if found is None:
        found = system.memo["shows-details"] = any(_has_details(node) for node in system.concepts.values())
    return found


def _has_details(node: dict[str, Any]) -> bool:
    if any(p.get("code") == "status" and p.get("valueCode") != "active" for p in node.get("property", ())):
        return True
    return any(
        e.get("url") in FROM_EXTENSIONS or e.get("url") in COPIED_EXTENSIONS
        for e in node.get("extension", ())
    )


def unasked_properties(node: dict[str, Any]) -> list[tuple[str, Value]]:
    """The properties shown for a concept without being asked.

    >>> unasked_properties({"code": "a", "property": [{"code": "status", "valueCode": "retired"}],
    ...     "extension": [{"url": "http://hl7.org/fhir/StructureDefinition/codesystem-conceptOrder",
    ...                    "valueInteger": 2}]})
    [('status', ('valueCode', 'retired')), ('order', ('valueDecimal', 2))]
    """
    shown: list[tuple[str, Value]] = [
        ("status", ("valueCode", p["valueCode"]))
        for p in node.get("property", ())
        if p.get("code") == "status" and p.get("valueCode") not in (None, "active")
    ]
    for extension in node.get("extension", ()):
        code, kind = FROM_EXTENSIONS.get(extension.get("url", ""), ("", ""))
        value = next((v for k, v in extension.items() if k.startswith("value")), None)
        if code and value not in (None, "active") and all(c != code for c, _ in shown):
            shown.append((code, (kind, value)))
    return shown


def listed_properties(listed: dict[str, Any]) -> list[tuple[str, Value]]:
    """The properties a value set gives a concept it lists (order, label, weight)."""
    shown: list[tuple[str, Value]] = []
    for extension in listed.get("extension", ()):
        code, kind = FROM_LISTED.get(extension.get("url", ""), ("", ""))
        value = next((v for k, v in extension.items() if k.startswith("value")), None)
        if code and value is not None:
            shown.append((code, (kind, value)))
    return shown


def asked_property(node: dict[str, Any], code: str) -> list[Value]:
    """The values of property ``code`` of a concept (``definition`` is the concept's own)."""
    if code == "definition":
        return [("valueString", node["definition"])] if node.get("definition") else []
    values: list[Value] = []
    for prop in node.get("property", ()):
        if prop.get("code") == code:
            values += [(k, v) for k, v in prop.items() if k.startswith("value")]
    return values


def property_extension(code: str, value: Value) -> dict[str, Any]:
    return {
        "url": CONTAINS_PROPERTY,
        "extension": [{"url": "code", "valueCode": code}, {"url": "value", value[0]: value[1]}],
    }


@dataclass
class Details:
    """The properties and rendering hints of one expansion: what each concept shows, and which
    properties the expansion lists (``expansion.property``) as a result.

    >>> red = {"code": "colour", "valueCode": "red"}
    >>> cs = CodeSystemIndex({"url": "urn:c", "property": [{"code": "colour", "uri": "urn:p#colour"}],
    ...     "concept": [{"code": "a", "definition": "Apple", "property": [red]}]})
    >>> details, entry = Details(asked=("colour", "definition")), {"code": "a"}
    >>> details.add_to(entry, cs, cs.concepts["a"])
    >>> [[p.get("valueCode") or p.get("valueString") for p in e["extension"]] for e in entry["extension"]]
    [['colour', 'red'], ['definition', 'Apple']]
    >>> [[p.get("valueCode") or p.get("valueUri") for p in e["extension"]] for e in details.declared()]
    [['colour', 'urn:p#colour'], ['definition', 'http://hl7.org/fhir/concept-properties#definition']]
    """

    asked: tuple[str, ...] = ()
    listed: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)
    """The concepts the value set lists, by (system, code): their extensions say more."""
    shown: dict[str, str | None] = field(default_factory=dict)
    """Each property code shown so far, with its URI."""

    def wanted(self, system: CodeSystemIndex | None) -> bool:
        """Whether concepts of ``system`` need looking at (something asked, or shown unasked)."""
        return bool(self.asked or self.listed) or (system is not None and shows_details(system))

    def add_to(self, entry: dict[str, Any], system: CodeSystemIndex, node: dict[str, Any]) -> None:
        """Adds the concept's properties and rendering extensions to its expansion ``entry``."""
        listed = self.listed.get((system.url, node.get("code", "")), {})
        values = listed_properties(listed)
        values += [(c, v) for c, v in unasked_properties(node) if all(c != code for code, _ in values)]
        for code in self.asked:
            values += [(code, value) for value in asked_property(node, code) if (code, value) not in values]
        own = [e for e in listed.get("extension", ()) if e.get("url") in COPIED_FROM_LISTED]
        extensions = own + [
            e for e in node.get("extension", ())
            if e.get("url") in COPIED_EXTENSIONS and all(e.get("url") != o.get("url") for o in own)
        ]  # fmt: skip
        extensions += [property_extension(code, value) for code, value in values]
        for code, _ in values:
            if code not in self.shown:
                self.shown[code] = _uri(system, code)
        if extensions:
            entry.setdefault("extension", []).extend(extensions)

    def declared(self) -> list[dict[str, Any]]:
        """``expansion.property`` as R4 extensions: each property shown, with its URI."""
        return [
            {
                "url": EXPANSION_PROPERTY,
                "extension": [{"url": "code", "valueCode": code}]
                + ([{"url": "uri", "valueUri": uri}] if uri else []),
            }
            for code, uri in self.shown.items()
        ]


def _uri(system: CodeSystemIndex, code: str) -> str | None:
    for declared in system.resource.get("property", ()):
        if declared.get("code") == code and declared.get("uri"):
            uri: str = declared["uri"]
            return uri
    return STANDARD_URIS.get(code)
