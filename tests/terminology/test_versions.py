"""One rule says which version is meant when none is named — the latest: active before any
other status, then the highest version, numbers compared as numbers — for stored code
systems, for ConceptMaps (``$translate`` and the Python API alike) and for what a request
sends."""

from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient

from api.app import create_app
from terminology import Concordance
from terminology.importers import importer_class
from terminology.models import CodeSystemMetadata
from terminology.services.concept_maps import change_status, save_concept_map
from terminology.services.importing import import_code_system
from terminology.settings import Settings
from terminology.storage.store import SqlStore

URL = "urn:test:versions"


def _map(version: str, target: str, status: str) -> dict[str, object]:
    return {
        "resourceType": "ConceptMap", "url": "urn:test:map", "version": version, "status": status,
        "group": [{"source": URL, "target": URL, "element": [{"code": "A", "target": [
            {"code": target, "equivalence": "equivalent"}]}]}],
    }  # fmt: skip


def test_a_later_import_of_an_older_release_does_not_become_the_default(
    store: SqlStore, tmp_path: Path
) -> None:
    for version in ("2.10", "2.9"):  # 2.9 back-filled after 2.10
        path = tmp_path / f"{version}.csv"
        path.write_text(f"code,display\nA,release {version}\n", encoding="utf-8")
        import_code_system(
            store, importer_class("csv").with_options({}), path,
            overrides=CodeSystemMetadata(url=URL, version=version, language="en", name="Releases"),
        )  # fmt: skip
    assert store.code_system(URL).version == "2.10"
    assert store.code_system(URL, "2.9").version == "2.9"
    concordance = Concordance(store)  # the Python API, by url or by name, follows the same rule
    assert [concordance.system(ref).version for ref in (URL, "Releases", "Releases|2.9")] == [
        "2.10",
        "2.10",
        "2.9",
    ]


def test_translate_and_the_python_api_pick_the_same_map_version(store: SqlStore, database_url: str) -> None:
    save_concept_map(store, _map("10", "TEN", "draft"))
    save_concept_map(store, _map("9", "NINE", "active"))
    two = save_concept_map(store, _map("2", "TWO", "active"))[0]
    concordance = Concordance(store)
    with TestClient(create_app(Settings(database_url=database_url))) as client:

        def answered() -> tuple[str, str]:
            fhir = client.get(
                "/fhir/ConceptMap/$translate", params={"url": "urn:test:map", "system": URL, "code": "A"}
            ).json()
            match = next(p for p in fhir["parameter"] if p["name"] == "match")
            coding = next(part for part in match["part"] if part["name"] == "concept")["valueCoding"]
            python = concordance.translate(["A"], system=URL, url="urn:test:map")["target_code"][0]
            return coding["code"], python

        assert answered() == ("NINE", "NINE")  # the draft 10 is higher but not active; 9 > 2
        change_status(store, two.id, "retired")
        client.app.state.map_cache.recheck_seconds = 0  # type: ignore[attr-defined]
        assert answered() == ("NINE", "NINE")
        pinned = client.get(
            "/fhir/ConceptMap/$translate",
            params={"url": "urn:test:map|10", "system": URL, "code": "A"},
        ).json()
        assert '"TEN"' in str(pinned).replace("'", '"')


def test_a_wildcard_version_means_the_latest_that_fits() -> None:
    from terminology.versions import pick_version

    versions = ["1.0.0", "1.2.0", "1.10.1", "2.0.0"]
    assert pick_version(versions, "1.x", version_of=str) == "1.10.1"
    assert pick_version(versions, "1.2.x", version_of=str) == "1.2.0"
    assert pick_version(versions, "3.x", version_of=str) is None
