"""ValueSet operations on a stored bilingual code system, answered as the reference servers
answer: ``$expand`` names concepts in the language asked (``displayLanguage``, the value set's
own expansion parameter, else the ``Accept-Language`` header), lists the other names with
``includeDesignations`` and keeps only some with ``designation``; ``$validate-code`` of a
CodeableConcept judges the concept on all its codings, a display in the languages asked;
refusals carry the reference servers' message ids."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from terminology.settings import Settings
from terminology.storage.store import SqlStore
from tests.api.bilingual import FLU, FLU_EN, URL, import_bilingual


@pytest.fixture
def client(store: SqlStore, database_url: str, tmp_path: Path) -> Iterator[TestClient]:
    import_bilingual(store, tmp_path, extra_rows="J12,Pneumopathie virale,,J10-J18\n")
    with TestClient(create_app(Settings(database_url=database_url))) as served:
        yield served


def expand(client: TestClient, *extra: dict[str, Any], headers: dict[str, str] | None = None) -> dict:
    body = {
        "resourceType": "Parameters",
        "parameter": [
            {"name": "url", "valueUri": f"{URL}?fhir_vs"},
            {"name": "excludeNested", "valueBoolean": True},
            *list(extra),
        ],
    }
    answer = client.post("/fhir/ValueSet/$expand", json=body, headers=headers or {})
    assert answer.status_code == 200, answer.text
    return dict(answer.json()["expansion"])


def concept(expansion: dict, code: str) -> dict:
    return next(c for c in expansion["contains"] if c["code"] == code)


def test_the_display_is_in_the_language_asked_and_the_echo_says_which(client: TestClient) -> None:
    assert concept(expand(client), "J10")["display"] == FLU
    english = expand(client, {"name": "displayLanguage", "valueCode": "en"})
    assert concept(english, "J10")["display"] == FLU_EN
    assert concept(english, "J12")["display"] == "Pneumopathie virale"  # no English name: the French one
    assert {"name": "displayLanguage", "valueCode": "en"} in english["parameter"]
    assert "designation" not in concept(english, "J10")  # names listed only when asked


def test_the_header_counts_when_the_request_does_not_say(client: TestClient) -> None:
    by_header = expand(client, headers={"Accept-Language": "en"})
    assert concept(by_header, "J10")["display"] == FLU_EN
    overridden = expand(
        client, {"name": "displayLanguage", "valueCode": "fr"}, headers={"Accept-Language": "en"}
    )
    assert concept(overridden, "J10")["display"] == FLU


def test_only_the_languages_asked_leave_a_concept_without_display(client: TestClient) -> None:
    strict = expand(client, {"name": "displayLanguage", "valueCode": "en, *; q=0"})
    assert concept(strict, "J10")["display"] == FLU_EN
    assert "display" not in concept(strict, "J12")
    assert {"name": "displayLanguage", "valueCode": "en, *; q=0"} in strict["parameter"]


def test_designations_list_the_other_names_and_the_filter_keeps_some(client: TestClient) -> None:
    listed = expand(
        client,
        {"name": "displayLanguage", "valueCode": "en"},
        {"name": "includeDesignations", "valueBoolean": True},
    )
    names = concept(listed, "J10")["designation"]
    french = [d for d in names if d.get("language") == "fr"]
    assert french and french[0]["value"] == FLU  # the code system's own display, now a designation
    assert french[0]["use"]["code"] == "preferredForLanguage"
    assert all(d["value"] != FLU_EN for d in names)  # the display is not repeated
    only_english = expand(
        client,
        {"name": "includeDesignations", "valueBoolean": True},
        {"name": "designation", "valueString": "urn:ietf:bcp:47|en"},
    )
    assert [d["value"] for d in concept(only_english, "J10")["designation"]] == [FLU_EN]
    assert "designation" not in concept(only_english, "J12")
    assert {"name": "designation", "valueString": "urn:ietf:bcp:47|en"} in only_english["parameter"]


def test_typing_searches_the_names_in_the_language_shown(client: TestClient) -> None:
    """Someone reading English displays types English: the filter searches what is shown."""
    typed = {"name": "filter", "valueString": "influ"}
    english = expand(
        client, {"name": "displayLanguage", "valueCode": "en"}, typed, {"name": "count", "valueInteger": 10}
    )
    assert {c["code"] for c in english["contains"]} == {"J10-J18", "J10"}
    assert english["total"] == 2
    assert "contains" not in expand(client, typed)  # the French displays say "Grippe"
    french = expand(client, {"name": "filter", "valueString": "grip"})
    assert {c["code"] for c in french["contains"]} == {"J10-J18", "J10"}


def validate(client: TestClient, *codings: dict[str, str]) -> dict[str, Any]:
    body = {
        "resourceType": "Parameters",
        "parameter": [
            {"name": "url", "valueUri": f"{URL}?fhir_vs=isa/J10-J18"},
            {"name": "codeableConcept", "valueCodeableConcept": {"coding": list(codings)}},
        ],
    }
    answer = client.post("/fhir/ValueSet/$validate-code", json=body)
    assert answer.status_code == 200, answer.text
    found: dict[str, Any] = {}
    for parameter in answer.json()["parameter"]:
        found[parameter["name"]] = parameter.get("resource") or next(
            v for k, v in parameter.items() if k.startswith("value")
        )
    return found


def test_a_concept_is_judged_on_all_its_codings(client: TestClient) -> None:
    good, unknown = {"system": URL, "code": "J10"}, {"system": URL, "code": "J99"}
    one_good = validate(client, unknown, good)
    assert one_good["result"] is False  # an unknown code is still an error
    assert one_good["code"] == "J10"  # the coding found in the value set is named
    kinds = [(i["severity"], i["details"]["coding"][0]["code"]) for i in one_good["issues"]["issue"]]
    assert kinds == [("error", "invalid-code"), ("information", "this-code-not-in-vs")]
    none_good = validate(client, unknown)
    assert none_good["result"] is False and "code" not in none_good and "system" not in none_good
    first = none_good["issues"]["issue"][0]
    assert first["details"]["text"].startswith("No valid coding was found for the value set")
    assert "expression" not in first  # about the whole concept
    assert validate(client, good)["result"] is True


def validate_display(client: TestClient, display: str, **asked: str) -> tuple[int, dict[str, Any]]:
    parameters = [
        {"name": "url", "valueUri": f"{URL}?fhir_vs"},
        {"name": "coding", "valueCoding": {"system": URL, "code": "J10", "display": display}},
    ] + [{"name": name, "valueCode": value} for name, value in asked.items()]
    answer = client.post(
        "/fhir/ValueSet/$validate-code", json={"resourceType": "Parameters", "parameter": parameters}
    )
    body = answer.json()
    if answer.status_code != 200:
        return answer.status_code, body
    return 200, {p["name"]: p.get("resource") or next(v for k, v in p.items() if k.startswith("value"))
                 for p in body["parameter"]}  # fmt: skip


def test_a_display_is_judged_in_the_languages_asked(client: TestClient) -> None:
    _, any_language = validate_display(client, FLU_EN)
    assert any_language["result"] is True and any_language["display"] == FLU  # the code system's language
    _, english = validate_display(client, FLU_EN, displayLanguage="en")
    assert english["result"] is True and english["display"] == FLU_EN
    _, french_when_english = validate_display(client, FLU, displayLanguage="en")
    assert french_when_english["result"] is False
    assert f"Valid display is '{FLU_EN}' (en) (for the language(s) 'en')" in french_when_english["message"]
    _, none_in_german = validate_display(client, FLU, displayLanguage="de")
    assert none_in_german["result"] is True  # right in the default language, said as information
    assert none_in_german["issues"]["issue"][0]["severity"] == "information"
    _, lenient = validate_display(client, "Grippe ?", **{"lenient-display-validation": "true"})
    assert lenient["result"] is True and lenient["issues"]["issue"][0]["severity"] == "warning"
    status, refused = validate_display(client, FLU, displayLanguage="-")
    assert status == 400 and refused["resourceType"] == "OperationOutcome"
    assert "Invalid displayLanguage: '-'" in refused["issue"][0]["details"]["text"]
    assert refused["issue"][0]["details"]["coding"][0]["code"] == "invalid-display"
    assert refused["issue"][0]["extension"][0]["valueString"] == "INVALID_DISPLAY_NAME"
    assert lenient["message"].startswith("Wrong Display Name")  # a display to correct, said


def test_refusals_carry_the_reference_message_ids(client: TestClient) -> None:
    pinned = {"resourceType": "ValueSet", "url": "urn:test:pinned",
              "compose": {"include": [{"system": URL, "version": "1"}]}}  # fmt: skip
    body = {"resourceType": "Parameters", "parameter": [
        {"name": "valueSet", "resource": pinned},
        {"name": "check-system-version", "valueUri": f"{URL}|2"}]}  # fmt: skip
    refused = client.post("/fhir/ValueSet/$expand", json=body)
    assert refused.status_code == 400
    issue = refused.json()["issue"][0]
    assert issue["extension"][0]["valueString"] == "VALUESET_VERSION_CHECK"
    assert issue["details"]["coding"][0]["code"] == "version-error"
    looping = {"resourceType": "ValueSet", "url": "urn:test:loop", "compose": {"include": [
        {"valueSet": ["urn:test:loop"]}]}}  # fmt: skip
    body = {"resourceType": "Parameters", "parameter": [
        {"name": "url", "valueUri": "urn:test:loop"}, {"name": "tx-resource", "resource": looping}]}  # fmt: skip
    circular = client.post("/fhir/ValueSet/$expand", json=body)
    assert circular.status_code == 400
    assert circular.json()["issue"][0]["extension"][0]["valueString"] == "VALUESET_CIRCULAR_REFERENCE"


def test_a_supplement_required_but_missing_is_refused(client: TestClient) -> None:
    body = {"resourceType": "Parameters", "parameter": [
        {"name": "url", "valueUri": f"{URL}?fhir_vs"},
        {"name": "useSupplement", "valueCanonical": "urn:test:supplement-nobody-has"}]}  # fmt: skip
    refused = client.post("/fhir/ValueSet/$expand", json=body)
    assert refused.status_code == 404
    issue = refused.json()["issue"][0]
    assert issue["extension"][0]["valueString"] == "VALUESET_SUPPLEMENT_MISSING"
    assert issue["details"]["text"] == "Required supplement not found: urn:test:supplement-nobody-has"


def test_a_filter_without_value_is_refused_pointing_at_it(client: TestClient) -> None:
    broken = {"resourceType": "ValueSet", "url": "urn:test:broken", "compose": {"include": [
        {"system": URL, "filter": [{"property": "concept", "op": "is-a"}]}]}}  # fmt: skip
    body = {"resourceType": "Parameters", "parameter": [{"name": "valueSet", "resource": broken}]}
    refused = client.post("/fhir/ValueSet/$expand", json=body)
    assert refused.status_code == 400
    issue = refused.json()["issue"][0]
    assert issue["extension"][0]["valueString"] == "UNABLE_TO_HANDLE_SYSTEM_FILTER_WITH_NO_VALUE"
    assert issue["expression"] == ["ValueSet.compose.include[0].filter[0]"]
