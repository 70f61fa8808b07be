"""Implicit value sets (``SYSTEM?fhir_vs``, ``SYSTEM?fhir_vs=isa/CODE``) over stored code
systems: what ``CodeSystem.valueSet`` and a ConceptMap's scope name, expanded and checked."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from terminology.importers import importer_class
from terminology.models import CodeSystem
from terminology.services.importing import import_code_system
from terminology.settings import Settings
from terminology.storage.store import SqlStore
from tests.conftest import FIXTURES


@pytest.fixture
def icd10(store: SqlStore, database_url: str) -> Iterator[tuple[TestClient, CodeSystem]]:
    system = import_code_system(
        store, importer_class("claml").with_options({}), FIXTURES / "icd10_who_sample.claml.xml"
    ).code_system
    with TestClient(create_app(Settings(database_url=database_url))) as client:
        yield client, system


def codes(expansion: dict) -> list[str]:
    found, stack = [], list(expansion["expansion"].get("contains", []))
    while stack:
        entry = stack.pop()
        found.append(entry["code"])
        stack.extend(entry.get("contains", []))
    return sorted(found)


def test_a_code_system_names_its_implicit_value_set_and_it_expands(
    icd10: tuple[TestClient, CodeSystem],
) -> None:
    client, system = icd10
    listed = client.get("/fhir/CodeSystem", params={"url": system.url}).json()["entry"][0]["resource"]
    assert listed["valueSet"] == f"{system.url}?fhir_vs"
    whole = client.get("/fhir/ValueSet/$expand", params={"url": listed["valueSet"]})
    assert whole.status_code == 200, whole.text
    assert whole.json()["expansion"]["total"] == system.concept_count
    assert len(codes(whole.json())) == system.concept_count
    below = client.get("/fhir/ValueSet/$expand", params={"url": f"{system.url}?fhir_vs=isa/A00"}).json()
    children = list(client.app.state.store.children(system, "A00"))  # type: ignore[attr-defined]
    assert children and codes(below) == sorted(["A00", *children])


def test_membership_of_an_implicit_value_set(icd10: tuple[TestClient, CodeSystem]) -> None:
    client, system = icd10
    child = client.app.state.store.children(system, "A00")[0]  # type: ignore[attr-defined]

    def valid(code: str) -> bool:
        answer = client.get(
            "/fhir/ValueSet/$validate-code",
            params={"url": f"{system.url}?fhir_vs=isa/A00", "system": system.url, "code": code},
        )
        assert answer.status_code == 200, answer.text
        return next(p["valueBoolean"] for p in answer.json()["parameter"] if p["name"] == "result")

    assert valid(child) and valid("A00") and not valid("A01")


def test_an_implicit_value_set_this_server_does_not_know_is_a_clear_400(
    icd10: tuple[TestClient, CodeSystem],
) -> None:
    client, system = icd10
    answer = client.get("/fhir/ValueSet/$expand", params={"url": f"{system.url}?fhir_vs=refset/123"})
    assert answer.status_code == 400 and answer.json()["resourceType"] == "OperationOutcome"
    assert "?fhir_vs=isa/CODE" in answer.json()["issue"][0]["details"]["text"]
    missing = client.get("/fhir/ValueSet/$expand", params={"url": "http://example.org/none?fhir_vs"})
    assert missing.status_code == 404 and missing.json()["resourceType"] == "OperationOutcome"
