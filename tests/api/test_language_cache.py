"""The type-ahead's search texts are kept per language *meant*, not per spelling: ``fr-FR``,
``FR``, ``fr;q=1.0`` and ``fr-FR,fr;q=0.9,en;q=0.8`` on a French code system are one entry,
a language the code system lacks is its default, and a client cycling spellings cannot
evict another user's warm entry."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from terminology.settings import Settings
from terminology.storage.store import SqlStore
from tests.api.bilingual import FLU, FLU_EN, URL, import_bilingual

FRENCH_SPELLINGS = ("fr", "fr-FR", "FR", "fr;q=1.0", "fr-FR,fr;q=0.9,en;q=0.8", "fr-CA")
ABSENT = ("de", "de-DE", "es;q=0.9", "ja", "pt-BR")
ENGLISH_SPELLINGS = ("en", "EN", "en-GB", "en-US;q=0.8", "de, en;q=0.5")


@pytest.fixture
def client(store: SqlStore, database_url: str, tmp_path: Path) -> Iterator[TestClient]:
    import_bilingual(store, tmp_path)
    with TestClient(create_app(Settings(database_url=database_url))) as served:
        yield served


def type_ahead(
    client: TestClient, text: str, *, header: str | None = None, parameter: str | None = None
) -> list[str]:
    """The displays a type-ahead ``filter`` finds, the language asked by header or parameter."""
    params = {"url": f"{URL}?fhir_vs", "filter": text}
    if parameter is not None:
        params["displayLanguage"] = parameter
    headers = {"Accept-Language": header} if header is not None else {}
    answer = client.get("/fhir/ValueSet/$expand", params=params, headers=headers)
    assert answer.status_code == 200, answer.text
    return displays(answer.json()["expansion"].get("contains", []))


def displays(contains: list[dict]) -> list[str]:
    """Every display of an expansion, nested entries after their parent."""
    return [
        name
        for entry in contains
        for name in (entry.get("display", ""), *displays(entry.get("contains", [])))
    ]


def entries(client: TestClient) -> set[int]:
    """The type-ahead texts the server's operations cache keeps."""
    return {id(text) for text in client.app.state.code_systems.typeahead.entries()}


def test_every_french_spelling_and_every_absent_language_share_the_default_entry(client: TestClient) -> None:
    assert type_ahead(client, "grippe") == ["Grippe et pneumopathie", FLU]
    first = entries(client)
    assert len(first) == 1
    for spelling in FRENCH_SPELLINGS + ABSENT:
        assert type_ahead(client, "virus grippal", header=spelling) == [FLU], spelling
        assert type_ahead(client, "virus grippal", parameter=spelling) == [FLU], spelling
    assert entries(client) == first  # nothing rebuilt, nothing evicted


def test_english_spellings_share_one_entry_of_their_own(client: TestClient) -> None:
    type_ahead(client, "grippe")
    french = entries(client)
    for spelling in ENGLISH_SPELLINGS:
        assert type_ahead(client, "identified influenza", header=spelling) == [FLU_EN], spelling
    assert len(entries(client) - french) == 1
    assert french <= entries(client)


def test_cycling_spellings_never_evicts_a_warm_entry(client: TestClient) -> None:
    type_ahead(client, "grippe", header="fr")
    type_ahead(client, "influenza", header="en")
    warm = entries(client)
    for spelling in (*FRENCH_SPELLINGS, *ABSENT, *ENGLISH_SPELLINGS) * 2:
        type_ahead(client, "grip", header=spelling)
    assert entries(client) == warm


def test_refusing_other_languages_is_its_own_meaning(client: TestClient) -> None:
    """``de, *; q=0`` refuses the French displays: concepts without a German name show none."""
    type_ahead(client, "grippe")
    assert type_ahead(client, "grippe", parameter="de, *; q=0") == []
    assert len(entries(client)) == 2
