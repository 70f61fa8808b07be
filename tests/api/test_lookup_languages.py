"""``$lookup`` on a stored bilingual code system: ``displayLanguage`` picks the display,
``property`` picks what comes back, designations carry FHIR's standard use codings."""

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


def lookup(client: TestClient, **asked: str) -> list[dict]:
    answer = client.get("/fhir/CodeSystem/$lookup", params={"system": URL, "code": "J10", **asked})
    assert answer.status_code == 200, answer.text
    return list(answer.json()["parameter"])


def display(parameters: list[dict]) -> str:
    return str(next(p["valueString"] for p in parameters if p["name"] == "display"))


def test_display_language_chooses_the_display(client: TestClient) -> None:
    assert display(lookup(client)) == "Grippe à virus grippal identifié"
    assert display(lookup(client, displayLanguage="en")) == "Influenza due to identified influenza virus"
    assert display(lookup(client, displayLanguage="en-GB, fr;q=0.5")) == (
        "Influenza due to identified influenza virus"
    )
    assert display(lookup(client, displayLanguage="de, fr;q=0.8")) == "Grippe à virus grippal identifié"
    assert (
        display(lookup(client, displayLanguage="de")) == "Grippe à virus grippal identifié"
    )  # none in German


def test_designations_use_standard_codings(client: TestClient) -> None:
    designations = [p for p in lookup(client) if p["name"] == "designation"]
    uses = {
        next(part["valueCode"] for part in d["part"] if part["name"] == "language"): next(
            part["valueCoding"] for part in d["part"] if part["name"] == "use"
        )
        for d in designations
    }
    assert set(uses) == {"fr", "en"}
    assert all(not use["system"].startswith("urn:concordance") for use in uses.values()), uses
    assert uses["fr"]["code"] == "preferredForLanguage"


def test_property_chooses_what_comes_back(client: TestClient) -> None:
    parents_only = lookup(client, property="parent")
    names = {p["name"] for p in parents_only}
    assert "designation" not in names and {"name", "code", "system", "display"} <= names
    properties = [next(part["valueCode"] for part in p["part"] if part["name"] == "code")
                  for p in parents_only if p["name"] == "property"]  # fmt: skip
    assert properties == ["parent"]
    designations_only = lookup(client, property="designation")
    assert any(p["name"] == "designation" for p in designations_only)
    assert not any(p["name"] == "property" for p in designations_only)
