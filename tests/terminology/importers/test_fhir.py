"""The ``fhir`` importer: a FHIR R4 CodeSystem with real CIM-10 codes and labels."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from terminology.errors import DuplicateCodeError, HierarchyCycleError, SourceFileError
from terminology.importers import importer_class
from terminology.models import DesignationUse
from terminology.services.importing import import_code_system
from terminology.storage.store import SqlStore
from tests.conftest import FIXTURES, table_counts

SAMPLE = FIXTURES / "cim10_fr_sample.codesystem.json"


def run(store: SqlStore, path: Path):
    return import_code_system(store, importer_class("fhir").with_options({}), path)


def test_metadata_nesting_designations_and_status(store: SqlStore) -> None:
    report = run(store, SAMPLE)
    system = report.code_system
    assert (system.url, system.version, system.name, system.publisher) == (
        "urn:concordance:test:cim10-fr",
        "5.0.4",
        "CIM10FRSample",
        "WHO / GNU Health",
    )
    assert system.concept_count == 6 and set(system.languages) == {"fr", "en"}
    cholera = store.concept(system, "A00.0")
    assert cholera is not None and cholera.parents == ("A00",)
    assert cholera.designations[0].language == "en"
    a00 = store.concept(system, "A00")
    assert a00 is not None and a00.designations[0].use is DesignationUse.PREFERRED
    assert a00.properties == {"kind": "category"}
    typhoid = store.concept(system, "A01.0")
    assert typhoid is not None and typhoid.parents == ("A01",)
    dengue = store.concept(system, "A90")
    assert dengue is not None and dengue.active is False


def edited(tmp_path: Path, change) -> Path:
    resource = json.loads(SAMPLE.read_text(encoding="utf-8"))
    change(resource)
    path = tmp_path / "cs.json"
    path.write_text(json.dumps(resource), encoding="utf-8")
    return path


def test_duplicate_code_names_the_element(store: SqlStore, tmp_path: Path) -> None:
    path = edited(tmp_path, lambda r: r["concept"].append({"code": "A01", "display": "encore"}))
    with pytest.raises(DuplicateCodeError, match=r"concept\[4\]: field 'code': duplicate code 'A01'"):
        run(store, path)


def test_concept_without_code(store: SqlStore, tmp_path: Path) -> None:
    path = edited(tmp_path, lambda r: r["concept"][0]["concept"].append({"display": "sans code"}))
    with pytest.raises(SourceFileError, match=r"concept\[0\]\.concept\[2\]: field 'code'"):
        run(store, path)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b'{"resourceType": "CodeSystem", "concept": [\n{"code": "A"', "invalid JSON"),
        (b'{"resourceType": "ValueSet"}', "expected a FHIR CodeSystem, found 'ValueSet'"),
        (b'{"resourceType": "CodeSystem", "concept": [{"code": "\xe9"}]}', "not valid UTF-8"),
    ],
)
def test_bad_json_is_refused_and_nothing_changes(
    store: SqlStore, tmp_path: Path, content: bytes, message: str
) -> None:
    run(store, SAMPLE)
    before = table_counts(store)
    path = tmp_path / "bad.json"
    path.write_bytes(content)
    with pytest.raises(SourceFileError, match=message) as caught:
        run(store, path)
    assert str(path) in str(caught.value)
    assert table_counts(store) == before


def test_parent_loop_is_refused_naming_the_element(store: SqlStore, tmp_path: Path) -> None:
    def loop(resource: dict) -> None:
        resource["concept"][1]["property"] = [{"code": "parent", "valueCode": "A01.0"}]

    with pytest.raises(
        HierarchyCycleError, match=r"concept\[1\]: field 'parent': hierarchy cycle: A01 → A01.0 → A01"
    ):
        run(store, edited(tmp_path, loop))
