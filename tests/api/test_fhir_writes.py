"""Writes the HAPI way: publishers POST and PUT CodeSystems, ValueSets and ConceptMaps;
nobody else can; a stale If-Match is a 412, so two publishers never overwrite each other."""

from __future__ import annotations

import copy
import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass

import httpx2 as httpx
import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from terminology.settings import Settings
from terminology.storage import users
from terminology.storage.store import SqlStore
from tests.conftest import BUNDLED, FIXTURES
from tests.live_server import serving

CM = json.loads(
    (BUNDLED / "hl7_conceptmaps" / "original" / "ConceptMap-101.json").read_text(encoding="utf-8")
)
CS = json.loads((FIXTURES / "cim10_fr_sample.codesystem.json").read_text(encoding="utf-8"))
VS = {
    "resourceType": "ValueSet", "url": "urn:vs:cholera", "version": "1", "name": "Cholera", "status": "draft",
    "compose": {"include": [{"system": CS["url"], "concept": [{"code": "A00"}]}]},
}  # fmt: skip


@dataclass
class Writers:
    client: TestClient
    publisher: dict[str, str]
    reader: dict[str, str]


@pytest.fixture
def writers(store: SqlStore, database_url: str) -> Iterator[Writers]:
    _, publisher = users.create_user(store, "ans-publisher")
    users.set_publisher(store, "ans-publisher", True)
    _, reader = users.create_user(store, "curator")
    with TestClient(create_app(Settings(database_url=database_url))) as client:
        yield Writers(client, {"Authorization": f"Bearer {publisher}"}, {"Authorization": f"Bearer {reader}"})


def outcome(answer: httpx.Response, status: int) -> str:
    assert answer.status_code == status, answer.text
    body = answer.json()
    assert body["resourceType"] == "OperationOutcome"
    return str(body["issue"][0]["details"]["text"])


def test_only_publishers_write(writers: Writers) -> None:
    client = writers.client
    assert "Bearer" in outcome(client.post("/fhir/ValueSet", json=VS), 401)
    assert "concordance users publisher curator" in outcome(
        client.post("/fhir/ValueSet", json=VS, headers=writers.reader), 403
    )
    assert "unknown or revoked" in outcome(
        client.put("/fhir/ConceptMap/1", json=CM, headers={"Authorization": "Bearer cc_nothing"}), 401
    )
    assert client.get("/fhir/ValueSet", params={"url": VS["url"]}).json()["total"] == 0


def test_a_value_set_is_created_rewritten_while_draft_and_then_fixed(writers: Writers) -> None:
    client, headers = writers.client, writers.publisher
    created = client.post("/fhir/ValueSet", json=VS, headers=headers)
    assert created.status_code == 201 and created.headers["ETag"] == 'W/"1"'
    number = created.json()["id"]
    assert created.headers["Location"].endswith(f"/fhir/ValueSet/{number}/_history/1")
    changed = copy.deepcopy(VS) | {"id": number}
    changed["compose"]["include"][0]["concept"].append({"code": "A01"})
    updated = client.put(f"/fhir/ValueSet/{number}", json=changed, headers=headers | {"If-Match": 'W/"1"'})
    assert updated.status_code == 200 and updated.headers["ETag"] == 'W/"2"'
    assert "at revision 2, not 1" in outcome(
        client.put(f"/fhir/ValueSet/{number}", json=VS, headers=headers | {"If-Match": 'W/"1"'}), 412
    )
    active = changed | {"status": "active"}
    assert (
        client.put(f"/fhir/ValueSet/{number}", json=active, headers=headers | {"If-Match": 'W/"2"'}).headers[
            "ETag"
        ]
        == 'W/"3"'
    )
    assert "its content is fixed" in outcome(
        client.put(f"/fhir/ValueSet/{number}", json=VS | {"status": "active"}, headers=headers), 409
    )
    assert "cannot change its url or version" in outcome(
        client.put(f"/fhir/ValueSet/{number}", json=VS | {"version": "2"}, headers=headers), 400
    )
    assert "is not the id in the URL" in outcome(
        client.put(f"/fhir/ValueSet/{number}", json=VS | {"id": "999"}, headers=headers), 400
    )
    assert "If-Match must be an ETag" in outcome(
        client.put(f"/fhir/ValueSet/{number}", json=active, headers=headers | {"If-Match": "3"}), 400
    )
    assert client.get(f"/fhir/ValueSet/{number}").json()["meta"]["versionId"] == "3"


def test_a_concept_map_keeps_its_content_and_moves_its_status_forward(writers: Writers) -> None:
    client, headers = writers.client, writers.publisher
    draft = CM | {"status": "draft"}
    created = client.post("/fhir/ConceptMap", json=draft, headers=headers)
    assert created.status_code == 201, created.text
    number = created.json()["id"]
    assert "is not the id in the URL" in outcome(
        client.put(f"/fhir/ConceptMap/{number}", json=draft, headers=headers), 400
    )
    draft = draft | {"id": number}  # a PUT names the resource it writes
    assert client.post("/fhir/ConceptMap", json=draft, headers=headers).status_code == 200  # the same again
    activated = client.put(
        f"/fhir/ConceptMap/{number}",
        json=draft | {"status": "active"},
        headers=headers | {"If-Match": 'W/"1"'},
    )
    assert activated.status_code == 200 and activated.headers["ETag"] == 'W/"2"'
    assert "not 1 (If-Match)" in outcome(
        client.put(f"/fhir/ConceptMap/{number}", json=draft | {"status": "retired"},
                   headers=headers | {"If-Match": 'W/"1"'}), 412,
    )  # fmt: skip
    assert "its content never changes" in outcome(
        client.put(
            f"/fhir/ConceptMap/{number}", json=draft | {"status": "active", "title": "new"}, headers=headers
        ),
        409,
    )
    assert "cannot go back to draft" in outcome(
        client.put(f"/fhir/ConceptMap/{number}", json=draft, headers=headers), 400
    )
    assert client.get(f"/fhir/ConceptMap/{number}").json()["status"] == "active"


def test_a_code_system_is_imported_through_the_api(writers: Writers) -> None:
    client, headers = writers.client, writers.publisher
    created = client.post("/fhir/CodeSystem", json=CS, headers=headers)
    assert created.status_code == 201, created.text
    number = created.json()["id"]
    written = CS | {"id": number}
    looked = client.get("/fhir/CodeSystem/$lookup", params={"system": CS["url"], "code": "A00"}).json()
    assert next(p["valueString"] for p in looked["parameter"] if p["name"] == "display") == "Choléra"
    again = client.put(f"/fhir/CodeSystem/{number}", json=written, headers=headers | {"If-Match": 'W/"1"'})
    assert again.status_code == 200 and again.headers["ETag"] == 'W/"1"'
    other = copy.deepcopy(written)
    other["concept"][0]["display"] = "Cholera"
    refused = client.put(f"/fhir/CodeSystem/{number}", json=other, headers=headers)
    assert refused.status_code == 409 and refused.json()["resourceType"] == "OperationOutcome"
    assert "never change" in outcome(
        client.put(f"/fhir/CodeSystem/{number}", json=written, headers=headers | {"If-Match": 'W/"2"'}), 412
    )
    assert outcome(client.post("/fhir/CodeSystem", json={"resourceType": "ValueSet"}, headers=headers), 400)


def test_two_publishers_with_the_same_if_match_one_wins(store: SqlStore, database_url: str) -> None:
    _, token = users.create_user(store, "publisher")
    users.set_publisher(store, "publisher", True)
    headers = {"Authorization": f"Bearer {token}"}
    with serving(create_app(Settings(database_url=database_url))) as base:
        number = httpx.post(f"{base}/fhir/ValueSet", json=VS, headers=headers).json()["id"]
        statuses: list[int] = []

        def rewrite(code: str) -> None:
            changed = copy.deepcopy(VS)
            changed["compose"]["include"][0]["concept"] = [{"code": code}]
            answer = httpx.put(
                f"{base}/fhir/ValueSet/{number}", json=changed, headers=headers | {"If-Match": 'W/"1"'}
            )
            statuses.append(answer.status_code)

        threads = [threading.Thread(target=rewrite, args=(code,)) for code in ("A01", "A02")]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert sorted(statuses) == [200, 412]
        final = httpx.get(f"{base}/fhir/ValueSet/{number}").json()
        assert final["meta"]["versionId"] == "2"
