"""The ``snomed-rf2`` importer on an RF2 snapshot subset with English and French."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from terminology.errors import SourceFileError
from terminology.importers import importer_class
from terminology.models import CodeSystemMetadata, DesignationUse
from terminology.services.importing import import_code_system
from terminology.storage.store import SqlStore
from tests.conftest import FIXTURES, table_counts

RELEASE = FIXTURES / "snomed_rf2"


def run(store: SqlStore, path: Path, version: str = "20250101", **options: object):
    importer = importer_class("snomed-rf2").with_options(dict(options))
    return import_code_system(store, importer, path, overrides=CodeSystemMetadata(version=version))


def test_descriptions_refsets_and_is_a(store: SqlStore) -> None:
    system = run(store, RELEASE).code_system
    assert (system.url, system.concept_count) == ("http://snomed.info/sct", 9)
    assert set(system.languages) == {"en", "fr"}
    diabetes = store.concept(system, "73211009")
    assert diabetes is not None
    assert diabetes.display == "Diabetes mellitus"
    assert diabetes.parents == ("64572001",)
    labels = {(d.language, d.use, d.value) for d in diabetes.designations}
    assert ("en", DesignationUse.FULLY_SPECIFIED, "Diabetes mellitus (disorder)") in labels
    assert ("en", DesignationUse.SYNONYM, "DM - Diabetes mellitus") in labels
    assert ("fr", DesignationUse.PREFERRED, "diabète sucré") in labels
    assert "Sugar diabetes" not in {d.value for d in diabetes.designations}
    assert store.children(system, "73211009") == ["44054006", "46635009"]
    essential = store.concept(system, "59621000")
    assert essential is not None and essential.parents == (
        "38341003",
    )  # the link outside the subset is left out
    retired = store.concept(system, "190372001")
    assert retired is not None and retired.active is False


def test_french_display_when_asked(store: SqlStore) -> None:
    system = run(store, RELEASE, languages="fr,en").code_system
    type2 = store.concept(system, "44054006")
    assert type2 is not None and type2.display == "diabète sucré de type 2"
    root = store.concept(system, "138875005")
    assert root is not None and root.display == "SNOMED CT Concept"


def test_not_a_release_folder(store: SqlStore, tmp_path: Path) -> None:
    with pytest.raises(SourceFileError, match="no RF2 concept snapshot file"):
        run(store, tmp_path)


def test_truncated_description_file_changes_nothing(store: SqlStore, tmp_path: Path) -> None:
    run(store, RELEASE)
    before = table_counts(store)
    copy = tmp_path / "release"
    shutil.copytree(RELEASE, copy)
    descriptions = next(copy.rglob("sct2_Description_Snapshot-en*.txt"))
    lines = descriptions.read_text(encoding="utf-8").splitlines(keepends=True)
    descriptions.write_text("".join(lines[:5]) + lines[5][:30], encoding="utf-8")
    with pytest.raises(SourceFileError, match="expected 9 fields") as caught:
        run(store, copy, version="cut")
    assert caught.value.line == 6 and caught.value.path == str(descriptions)
    assert table_counts(store) == before


def test_duplicate_concept_names_the_rf2_file_and_line(store: SqlStore, tmp_path: Path) -> None:
    copy = tmp_path / "release"
    shutil.copytree(RELEASE, copy)
    concepts = next(copy.rglob("sct2_Concept_Snapshot*.txt"))
    lines = concepts.read_text(encoding="utf-8").splitlines(keepends=True)
    concepts.write_text("".join([*lines, lines[3]]), encoding="utf-8")
    with pytest.raises(
        SourceFileError,
        match=r"sct2_Concept_Snapshot_INT_20250101\.txt line 11: field 'code': duplicate code '64572001'",
    ):
        run(store, copy)


def test_invalid_utf8_names_the_rf2_file_and_line(store: SqlStore, tmp_path: Path) -> None:
    copy = tmp_path / "release"
    shutil.copytree(RELEASE, copy)
    french = next(copy.rglob("sct2_Description_Snapshot-fr*.txt"))
    french.write_bytes(
        french.read_bytes().replace("diabète sucré de type 2".encode(), "diab\xe8te".encode("latin-1"))
    )
    with pytest.raises(SourceFileError, match="not valid utf-8") as caught:
        run(store, copy)
    assert caught.value.path == str(french) and caught.value.line == 3
