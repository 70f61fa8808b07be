"""``$expand``'s ``count`` and ``offset`` are whole numbers of 0 or more (R4 ValueSet-expand
declares them ``integer``): a negative one is a 400 OperationOutcome naming the value, and
both are echoed as integers, never as the strings a query string carries."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from terminology.settings import Settings
from terminology.storage.store import SqlStore
from tests.api.bilingual import URL, import_bilingual


@pytest.fixture
def client(store: SqlStore, database_url: str, tmp_path: Path) -> Iterator[TestClient]:
    import_bilingual(store, tmp_path)
    with TestClient(create_app(Settings(database_url=database_url))) as served:
        yield served


@pytest.mark.parametrize("name", ["count", "offset"])
@pytest.mark.parametrize("value", ["-5", "-1", "two", "1.5"])
def test_a_negative_or_broken_number_is_refused(client: TestClient, name: str, value: str) -> None:
    answer = client.get("/fhir/ValueSet/$expand", params={"url": f"{URL}?fhir_vs", name: value})
    assert answer.status_code == 400, answer.text
    outcome = answer.json()
    assert outcome["resourceType"] == "OperationOutcome"
    assert repr(value) in outcome["issue"][0]["details"]["text"]


def test_count_and_offset_are_echoed_as_integers(client: TestClient) -> None:
    answer = client.get(
        "/fhir/ValueSet/$expand", params={"url": f"{URL}?fhir_vs", "count": "1", "offset": "0"}
    )
    assert answer.status_code == 200, answer.text
    expansion = answer.json()["expansion"]
    echoed = {p["name"]: p for p in expansion["parameter"]}
    assert echoed["count"] == {"name": "count", "valueInteger": 1}
    assert echoed["offset"] == {"name": "offset", "valueInteger": 0}
    assert expansion["total"] == 2 and len(expansion["contains"]) == 1


def test_count_zero_asks_for_the_total_alone(client: TestClient) -> None:
    answer = client.get("/fhir/ValueSet/$expand", params={"url": f"{URL}?fhir_vs", "count": "0"})
    assert answer.status_code == 200 and answer.json()["expansion"]["total"] == 2
    assert "contains" not in answer.json()["expansion"]
