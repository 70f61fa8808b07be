"""What an expansion says of each concept beyond its names: properties (R5 ``contains.property``
as the R4 cross-version extensions), supplements, a value set's own say on the concepts it
lists, rendering hints, fragments."""

from __future__ import annotations

from typing import Any

import pytest

from terminology.valuesets.errors import SupplementMissingError
from terminology.valuesets.expansion import expand
from terminology.valuesets.expansion_details import CONTAINS_PROPERTY, EXPANSION_PROPERTY
from terminology.valuesets.lookup import CodeSystemIndex
from terminology.valuesets.resolution import Terminologies, require_supplements

STRUCTURE = "http://hl7.org/fhir/StructureDefinition/"
FRUIT = {
    "resourceType": "CodeSystem", "url": "urn:fruit", "version": "1", "content": "complete",
    "property": [{"code": "colour", "uri": "urn:props#colour", "type": "code"},
                 {"code": "status", "uri": "http://hl7.org/fhir/concept-properties#status", "type": "code"}],
    "concept": [
        {"code": "apple", "display": "Apple", "definition": "The fruit of Malus",
         "property": [{"code": "colour", "valueCode": "red"}, {"code": "status", "valueCode": "active"}],
         "extension": [{"url": STRUCTURE + "codesystem-conceptOrder", "valueInteger": 2}],
         "concept": [{"code": "cox", "display": "Cox", "property": [{"code": "colour", "valueCode": "green"}]}]},
        {"code": "quince", "display": "Quince", "property": [{"code": "status", "valueCode": "retired"}],
         "extension": [{"url": STRUCTURE + "rendering-style", "valueString": "color: grey"}],
         "designation": [{"language": "fr", "value": "Coing", "extension": [
             {"url": STRUCTURE + "coding-sctdescid", "valueId": "12"},
             {"url": "urn:unknown-extension", "valueString": "not understood"}]}]},
    ],
}  # fmt: skip
SUPPLEMENT = {
    "resourceType": "CodeSystem", "url": "urn:fruit-labels", "version": "0.1", "content": "supplement",
    "supplements": "urn:fruit", "property": [{"code": "taste", "uri": "urn:props#taste", "type": "string"}],
    "concept": [{"code": "apple", "designation": [{"language": "nl", "value": "Appel"}],
                 "property": [{"code": "taste", "valueString": "sweet"}],
                 "extension": [{"url": STRUCTURE + "codesystem-label", "valueString": "a."}]}],
}  # fmt: skip
WHOLE = {"resourceType": "ValueSet", "url": "urn:vs:fruit", "compose": {"include": [{"system": "urn:fruit"}]}}


def expansion(
    value_set: dict[str, Any], *systems: dict[str, Any], supplements: tuple[str, ...] = (), **asked: Any
) -> dict[str, Any]:
    terms = Terminologies([CodeSystemIndex(s) for s in (FRUIT, *systems)])
    terms.supplements = require_supplements(value_set, terms, supplements)
    found: dict[str, Any] = expand(value_set, terms, parameters=asked.items())["expansion"]
    return found


def flat(entries: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] = {}
    for entry in entries:
        found[entry["code"]] = entry
        found.update(flat(entry.get("contains", [])))
    return found


def properties(entry: dict[str, Any]) -> dict[str, Any]:
    """A concept's properties, read back from the cross-version extensions."""
    shown: dict[str, Any] = {}
    for extension in entry.get("extension", []):
        if extension["url"] == CONTAINS_PROPERTY:
            parts = {part["url"]: part for part in extension["extension"]}
            value = next(v for k, v in parts["value"].items() if k.startswith("value"))
            shown[parts["code"]["valueCode"]] = value
    return shown


def declared(found: dict[str, Any]) -> dict[str, str | None]:
    listed = [e for e in found.get("extension", []) if e["url"] == EXPANSION_PROPERTY]
    return {
        next(p["valueCode"] for p in e["extension"] if p["url"] == "code"): next(
            (p["valueUri"] for p in e["extension"] if p["url"] == "uri"), None
        )
        for e in listed
    }


def test_a_retired_concept_shows_its_status_and_order_unasked_an_active_one_does_not() -> None:
    found = expansion(WHOLE)
    entries = flat(found["contains"])
    assert properties(entries["quince"]) == {"status": "retired"}
    assert properties(entries["apple"]) == {"order": 2}  # "active" is not worth saying
    assert properties(entries["cox"]) == {}
    assert declared(found) == {
        "status": "http://hl7.org/fhir/concept-properties#status",  # as the code system declares it
        "order": "http://hl7.org/fhir/concept-properties#order",  # the standard property
    }


def test_asked_properties_and_the_definition_are_shown_with_the_code_systems_uri() -> None:
    found = expansion(WHOLE, property=["colour", "definition"])
    entries = flat(found["contains"])
    assert properties(entries["apple"]) == {"order": 2, "colour": "red", "definition": "The fruit of Malus"}
    assert properties(entries["cox"]) == {"colour": "green"}
    assert declared(found)["colour"] == "urn:props#colour"
    assert declared(found)["definition"] == "http://hl7.org/fhir/concept-properties#definition"


def test_rendering_hints_are_repeated_and_only_understood_designation_extensions() -> None:
    entries = flat(expansion(WHOLE, includeDesignations=True)["contains"])
    assert {"url": STRUCTURE + "rendering-style", "valueString": "color: grey"} in entries["quince"][
        "extension"
    ]
    (french,) = entries["quince"]["designation"]
    assert french["extension"] == [{"url": STRUCTURE + "coding-sctdescid", "valueId": "12"}]


def test_a_supplement_in_force_adds_its_names_labels_and_properties_and_is_echoed() -> None:
    found = expansion(
        WHOLE, SUPPLEMENT, supplements=("urn:fruit-labels",), property="taste", includeDesignations=True
    )
    apple = flat(found["contains"])["apple"]
    assert properties(apple) == {"order": 2, "label": "a.", "taste": "sweet"}
    assert {"language": "nl", "value": "Appel"} in apple["designation"]
    assert declared(found)["taste"] == "urn:props#taste"
    assert {"name": "used-supplement", "valueUri": "urn:fruit-labels|0.1"} in found["parameter"]
    without = flat(expansion(WHOLE, SUPPLEMENT, property="taste")["contains"])["apple"]
    assert properties(without) == {"order": 2}  # a supplement nobody asked for changes nothing


def test_a_supplement_the_value_set_names_must_be_at_hand() -> None:
    needing = {
        **WHOLE,
        "extension": [{"url": STRUCTURE + "valueset-supplement", "valueCanonical": "urn:nowhere"}],
    }
    with pytest.raises(SupplementMissingError, match="urn:nowhere"):
        expansion(needing)


def test_what_a_value_set_says_of_a_concept_it_lists_wins_over_the_code_system() -> None:
    listing = {"resourceType": "ValueSet", "url": "urn:vs:listed", "compose": {"include": [{
        "system": "urn:fruit", "concept": [
            {"code": "apple", "extension": [
                {"url": STRUCTURE + "valueset-conceptOrder", "valueInteger": 0},
                {"url": STRUCTURE + "valueset-label", "valueString": "A"},
                {"url": STRUCTURE + "valueset-deprecated", "valueBoolean": True}],
             "designation": [{"language": "de", "value": "Apfel"}]},
            {"code": "quince"}]}]}}  # fmt: skip
    entries = flat(expansion(listing, includeDesignations=True)["contains"])
    assert properties(entries["apple"]) == {"order": 0, "label": "A"}
    assert {"url": STRUCTURE + "valueset-deprecated", "valueBoolean": True} in entries["apple"]["extension"]
    assert {"language": "de", "value": "Apfel"} in entries["apple"]["designation"]


def test_concepts_drawn_from_another_value_set_are_listed_flat() -> None:
    importing = {
        "resourceType": "ValueSet",
        "url": "urn:vs:import",
        "compose": {"include": [{"valueSet": ["urn:vs:fruit"]}]},
    }
    terms = Terminologies([CodeSystemIndex(FRUIT)], [WHOLE])
    contains = expand(importing, terms)["expansion"]["contains"]
    assert [entry["code"] for entry in contains] == ["apple", "cox", "quince"]
    assert not any("contains" in entry for entry in contains)
    assert any(
        "contains" in entry for entry in expand(WHOLE, terms)["expansion"]["contains"]
    )  # direct: a tree


def test_a_fragment_makes_the_expansion_unclosed() -> None:
    fragment = {**FRUIT, "content": "fragment"}
    terms = Terminologies([CodeSystemIndex(fragment)])
    found = expand(WHOLE, terms)["expansion"]
    assert {"url": STRUCTURE + "valueset-unclosed", "valueBoolean": True} in found["extension"]
    assert {"name": "used-fragment", "valueUri": "urn:fruit|1"} in found["parameter"]
    closed = expand(WHOLE, Terminologies([CodeSystemIndex(FRUIT)]))["expansion"]
    assert all(e["url"] != STRUCTURE + "valueset-unclosed" for e in closed.get("extension", []))
