"""The ``claml`` importer on a ClaML file written from real WHO ICD-10 2019 classes."""

from __future__ import annotations

from pathlib import Path

import pytest

from terminology.errors import SourceFileError, UnknownParentError, UnsafeXmlError
from terminology.importers import importer_class
from terminology.models import CodeSystemMetadata, DesignationUse
from terminology.services.importing import import_code_system
from terminology.storage.store import SqlStore
from tests.conftest import FIXTURES, table_counts

SAMPLE = FIXTURES / "icd10_who_sample.claml.xml"


def run(store: SqlStore, path: Path, version: str | None = None):
    metadata = CodeSystemMetadata(url="http://hl7.org/fhir/sid/icd-10", version=version)
    return import_code_system(store, importer_class("claml").with_options({}), path, overrides=metadata)


def test_rubrics_hierarchy_and_modifiers(store: SqlStore) -> None:
    system = run(store, SAMPLE).code_system
    assert system.version == "2019" and system.name == "ICD-10"
    assert system.concept_count == 10  # 8 classes + W00.0 and W00.1 from the place-of-occurrence modifier
    cholera = store.concept(system, "A00.0")
    assert cholera is not None
    assert cholera.display == "Cholera due to Vibrio cholerae 01, biovar cholerae"
    assert cholera.designations[0].use is DesignationUse.INCLUSION
    typhoid = store.concept(system, "A01")
    assert typhoid is not None and typhoid.designations[0].value == "paratyphoid fever A01.4"
    assert typhoid.designations[0].use is DesignationUse.EXCLUSION
    home = store.concept(system, "W00.0")
    assert home is not None and home.display == "Fall on same level involving ice and snow, Home"
    assert home.parents == ("W00",)
    assert store.children(system, "A00") == ["A00.0", "A00.9"]


def variant(tmp_path: Path, old: str, new: str) -> Path:
    path = tmp_path / "icd.xml"
    text = SAMPLE.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new), encoding="utf-8")
    return path


def test_external_entity_is_refused_before_parsing(store: SqlStore, tmp_path: Path) -> None:
    path = variant(
        tmp_path,
        '<!DOCTYPE ClaML SYSTEM "ClaML.dtd">',
        '<!DOCTYPE ClaML [<!ENTITY secret SYSTEM "file:///etc/passwd">]>',
    )
    path.write_text(
        path.read_text().replace('<Label xml:lang="en">Cholera</Label>', "<Label>&secret;</Label>")
    )
    with pytest.raises(UnsafeXmlError, match="declares the entity 'secret'") as caught:
        run(store, path)
    assert caught.value.line == 2


def test_truncated_file_names_the_line(store: SqlStore, tmp_path: Path) -> None:
    run(store, SAMPLE)
    before = table_counts(store)
    path = tmp_path / "cut.xml"
    path.write_text(SAMPLE.read_text(encoding="utf-8")[:3000], encoding="utf-8")
    with pytest.raises(SourceFileError, match="malformed XML") as caught:
        run(store, path, version="cut")
    assert caught.value.line is not None and caught.value.line > 30
    assert table_counts(store) == before


def test_unknown_superclass_names_the_class(store: SqlStore, tmp_path: Path) -> None:
    path = variant(
        tmp_path,
        '<SuperClass code="A00"/>\n    <Rubric kind="preferred"><Label xml:lang="en">Cholera, unspecified',
        '<SuperClass code="A99"/>\n    <Rubric kind="preferred"><Label xml:lang="en">Cholera, unspecified',
    )
    with pytest.raises(UnknownParentError, match=r'<Class code="A00.9">: field \'parent\''):
        run(store, path)
