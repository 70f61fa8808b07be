"""Stored ValueSets over real HTTP semantics: read and search them, expand and validate by
url or by id, import one into another's compose; bad files named."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from terminology.errors import SourceFileError
from terminology.importers import importer_class
from terminology.models import CodeSystem
from terminology.services.importing import import_code_system
from terminology.services.value_sets import import_value_set_file, save_value_set
from terminology.settings import Settings
from terminology.storage.store import SqlStore
from terminology.valuesets.errors import InvalidValueSetError
from tests.conftest import FIXTURES

VS = "http://example.org/fhir/ValueSet/cholera"


@pytest.fixture
def served(store: SqlStore, database_url: str) -> Iterator[tuple[TestClient, CodeSystem]]:
    system = import_code_system(
        store, importer_class("claml").with_options({}), FIXTURES / "icd10_who_sample.claml.xml"
    ).code_system
    for version, status, op in (("1", "retired", "descendent-of"), ("2", "active", "is-a")):
        save_value_set(
            store,
            {"resourceType": "ValueSet", "url": VS, "version": version, "name": "Cholera", "status": status,
             "compose": {"include": [{"system": system.url,
                                      "filter": [{"property": "concept", "op": op, "value": "A00"}]}]}},
        )  # fmt: skip
    with TestClient(create_app(Settings(database_url=database_url))) as client:
        yield client, system


def codes(answer: dict) -> set[str]:
    found, stack = set(), list(answer["expansion"].get("contains", []))
    while stack:
        entry = stack.pop()
        found.add(entry["code"])
        stack.extend(entry.get("contains", []))
    return found


def test_a_stored_value_set_is_expanded_by_url_latest_active_first(
    served: tuple[TestClient, CodeSystem],
) -> None:
    client, system = served
    children = set(client.app.state.store.children(system, "A00"))  # type: ignore[attr-defined]
    latest = client.get("/fhir/ValueSet/$expand", params={"url": VS})
    assert latest.status_code == 200, latest.text
    assert latest.json()["version"] == "2" and codes(latest.json()) == {"A00", *children}
    pinned = client.get("/fhir/ValueSet/$expand", params={"url": VS, "valueSetVersion": "1"}).json()
    assert codes(pinned) == children  # descendent-of: A00 itself left out
    valid = client.get(
        "/fhir/ValueSet/$validate-code", params={"url": VS, "system": system.url, "code": "A00"}
    ).json()
    assert next(p["valueBoolean"] for p in valid["parameter"] if p["name"] == "result") is True


def test_read_search_and_instance_operations(served: tuple[TestClient, CodeSystem]) -> None:
    client, system = served
    bundle = client.get("/fhir/ValueSet", params={"url": VS}).json()
    assert bundle["total"] == 2 and {e["resource"]["version"] for e in bundle["entry"]} == {"1", "2"}
    active = client.get("/fhir/ValueSet", params={"name": "chol", "status": "active"}).json()
    assert active["total"] == 1
    stored_id = active["entry"][0]["resource"]["id"]
    read = client.get(f"/fhir/ValueSet/{stored_id}")
    assert read.status_code == 200 and read.headers["ETag"] == 'W/"1"'
    assert (
        read.json()["meta"]["versionId"] == "1"
        and read.json()["compose"]["include"][0]["system"] == system.url
    )
    expanded = client.get(f"/fhir/ValueSet/{stored_id}/$expand", params={"count": 1}).json()
    assert expanded["expansion"]["total"] >= 2 and len(expanded["expansion"]["contains"]) == 1
    checked = client.get(
        f"/fhir/ValueSet/{stored_id}/$validate-code", params={"system": system.url, "code": "A01"}
    )
    assert next(p["valueBoolean"] for p in checked.json()["parameter"] if p["name"] == "result") is False
    assert client.get("/fhir/ValueSet/999999").status_code == 404
    assert client.get("/fhir/ValueSet", params={"publisher": "x"}).status_code == 400
    assert client.get("/fhir/ValueSet", params={"_summary": "count"}).json() == {
        "resourceType": "Bundle", "type": "searchset", "total": 2,
        "link": [{"relation": "self", "url": "http://testserver/fhir/ValueSet?_summary=count"}],
    }  # fmt: skip


def test_a_sent_value_set_imports_a_stored_one(served: tuple[TestClient, CodeSystem]) -> None:
    client, system = served
    body = {"resourceType": "Parameters", "parameter": [{"name": "valueSet", "resource": {
        "resourceType": "ValueSet", "status": "active", "compose": {"include": [{"valueSet": [VS]}],
                                                                    "exclude": [{"system": system.url,
                                                                                 "concept": [{"code": "A00"}]}]}}}]}  # fmt: skip
    answer = client.post("/fhir/ValueSet/$expand", json=body)
    assert answer.status_code == 200, answer.text
    assert "A00" not in codes(answer.json()) and codes(answer.json())


def test_bad_value_set_files_are_named(store: SqlStore, tmp_path: Path) -> None:
    path = tmp_path / "lab.json"
    path.write_text(json.dumps({"resourceType": "ValueSet", "url": VS, "status": "final"}), encoding="utf-8")
    with pytest.raises(SourceFileError) as refused:
        import_value_set_file(store, path)
    message = str(refused.value)
    assert (
        message.startswith(str(path))
        and "version is required" in message
        and "status must be one of" in message
    )
    assert "a compose (the rules) or an expansion" in message
    with pytest.raises(InvalidValueSetError, match="a ValueSet resource is expected, not 'CodeSystem'"):
        save_value_set(store, {"resourceType": "CodeSystem"})
    path.write_text(json.dumps({"resourceType": "ValueSet", "url": VS, "status": "active",
                                "compose": {"include": []}}), encoding="utf-8")  # fmt: skip
    stored, new = import_value_set_file(store, path, version="7")
    assert new and stored.version == "7"
    with pytest.raises(InvalidValueSetError, match="is active: it cannot go back to draft"):
        import_value_set_file(store, path, version="7", status="draft")
