"""FHIR writes refuse what they cannot store (issue 26): a NUL or another control character
in a code, a display or a designation is a 400 OperationOutcome naming the element, never
stored altered; refusals never show a server path; ``Location``, ``fullUrl`` and paging
links come from the configured base URL (or the listening address), never from ``Host``."""

from __future__ import annotations

import copy
from collections.abc import Iterator

import httpx2 as httpx
import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from terminology.settings import Settings
from terminology.storage import users
from terminology.storage.store import SqlStore
from tests.api.test_fhir_writes import CS, VS, outcome
from tests.live_server import serving


@pytest.fixture
def publisher(store: SqlStore) -> dict[str, str]:
    _, token = users.create_user(store, "ans-publisher")
    users.set_publisher(store, "ans-publisher", True)
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def client(database_url: str) -> Iterator[TestClient]:
    with TestClient(create_app(Settings(database_url=database_url))) as served:
        yield served


def spoiled(where: str, value: str) -> dict:
    """The sample CodeSystem with one element of its first concept replaced by ``value``."""
    resource = copy.deepcopy(CS)
    concept = resource["concept"][0]
    if where == "designation":
        concept["designation"] = [{"language": "en", "value": value}]
    else:
        concept[where] = value
    return resource


@pytest.mark.parametrize(
    ("where", "value", "element"),
    [
        ("code", "a\u0000b", "concept[0]"),
        ("code", "A00\n", "concept[0]"),
        ("display", "Chol\u0000éra", "concept[0]"),
        ("display", "\u001b[31mCholéra", "concept[0]"),
        ("designation", "Cholera\u0000", "concept[0].designation[0]"),
    ],
)
def test_control_characters_are_refused_naming_the_element(
    client: TestClient, publisher: dict[str, str], store: SqlStore, where: str, value: str, element: str
) -> None:
    before = len(store.code_systems())
    text = outcome(client.post("/fhir/CodeSystem", json=spoiled(where, value), headers=publisher), 400)
    assert f"CodeSystem.{element}" in text and "control character" in text, text
    assert "/tmp" not in text and "CodeSystem.json" not in text
    assert len(store.code_systems()) == before  # nothing stored, nothing altered


def test_tabs_and_newlines_stay_allowed_in_texts(client: TestClient, publisher: dict[str, str]) -> None:
    resource = spoiled("display", "Choléra\tdû à Vibrio")
    assert client.post("/fhir/CodeSystem", json=resource, headers=publisher).status_code == 201


def test_a_refusal_never_shows_a_server_path(client: TestClient, publisher: dict[str, str]) -> None:
    twice = copy.deepcopy(CS)
    twice["concept"].append(copy.deepcopy(twice["concept"][0]))  # a duplicate code
    text = outcome(client.post("/fhir/CodeSystem", json=twice, headers=publisher), 400)
    assert "/tmp" not in text and "CodeSystem.json" not in text and text.startswith("CodeSystem"), text


def test_location_ignores_the_host_header(client: TestClient, publisher: dict[str, str]) -> None:
    created = client.post("/fhir/ValueSet", json=VS, headers=publisher | {"Host": "evil.example"})
    assert created.status_code == 201, created.text
    assert "evil.example" not in created.headers["Location"]
    search = client.get("/fhir/ValueSet", headers={"Host": "evil.example"}).json()
    assert "evil.example" not in str(search)
    metadata = client.get("/fhir/metadata", headers={"Host": "evil.example"}).json()
    assert "evil.example" not in str(metadata["implementation"])


def test_links_come_from_the_configured_base_url(
    store: SqlStore, database_url: str, publisher: dict[str, str]
) -> None:
    settings = Settings(database_url=database_url, base_url="https://tx.example.org/terminology")
    with serving(create_app(settings)) as base:
        created = httpx.post(f"{base}/fhir/ValueSet", json=VS, headers=publisher | {"Host": "evil.example"})
        assert created.status_code == 201, created.text
        assert created.headers["Location"] == (
            f"https://tx.example.org/terminology/fhir/ValueSet/{created.json()['id']}/_history/1"
        )
        search = httpx.get(f"{base}/fhir/ValueSet", headers={"Host": "evil.example"}).json()
        assert search["link"][0]["url"].startswith("https://tx.example.org/terminology/fhir/ValueSet")
        assert search["entry"][0]["fullUrl"].startswith("https://tx.example.org/terminology/fhir/ValueSet/")


def test_without_a_base_url_links_name_the_listening_address(
    database_url: str, publisher: dict[str, str]
) -> None:
    with serving(create_app(Settings(database_url=database_url))) as base:
        created = httpx.post(
            f"{base}/fhir/ValueSet", json=VS, headers=publisher | {"Host": "evil.example:666"}
        )
        assert created.headers["Location"].startswith(f"{base}/fhir/ValueSet/")


def test_a_base_url_must_be_an_http_address() -> None:
    for wrong in ("javascript:alert(1)", "tx.example.org", "https://a b/"):
        with pytest.raises(ValueError, match="base_url"):
            Settings(base_url=wrong)


def test_value_sets_and_concept_maps_refuse_them_too(client: TestClient, publisher: dict[str, str]) -> None:
    value_set = copy.deepcopy(VS)
    value_set["compose"]["include"][0]["concept"] = [{"code": "A0\u00000"}]
    text = outcome(client.post("/fhir/ValueSet", json=value_set, headers=publisher), 400)
    assert "compose.include[0].concept[0]" in text and "control character" in text, text
