"""The ``loinc`` importer on a format-faithful LOINC table and French variant."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from terminology.errors import SourceFileError
from terminology.importers import importer_class
from terminology.importers.loinc import variant_language
from terminology.models import CodeSystemMetadata, DesignationUse
from terminology.services.importing import import_code_system
from terminology.storage.store import SqlStore
from tests.conftest import FIXTURES, table_counts

TABLE = FIXTURES / "loinc" / "Loinc.csv"
VARIANT = "frFR18LinguisticVariant.csv"


def run(store: SqlStore, path: Path, version: str = "2.80", **options: object):
    importer = importer_class("loinc").with_options(dict(options))
    return import_code_system(store, importer, path, overrides=CodeSystemMetadata(version=version))


def test_axes_become_properties_and_variants_designations(store: SqlStore) -> None:
    system = run(store, TABLE, variants=VARIANT).code_system
    assert (system.url, system.version, system.concept_count) == ("http://loinc.org", "2.80", 8)
    assert set(system.languages) == {"en", "fr-FR"}
    hemoglobin = store.concept(system, "718-7")
    assert hemoglobin is not None
    assert hemoglobin.display == "Hemoglobin [Mass/volume] in Blood"
    assert hemoglobin.properties["SYSTEM"] == "Bld" and hemoglobin.properties["PROPERTY"] == "MCnc"
    assert hemoglobin.properties["EXAMPLE_UNITS"] == "g/dL"
    labels = {(d.language, d.use, d.value) for d in hemoglobin.designations}
    assert ("en", DesignationUse.FULLY_SPECIFIED, "Hemoglobin:MCnc:Pt:Bld:Qn") in labels
    assert ("en", DesignationUse.ABBREVIATION, "Hgb Bld-mCnc") in labels
    assert ("fr-FR", DesignationUse.PREFERRED, "Hémoglobine [Masse/Volume] Sang ; Numérique") in labels
    assert ("fr-FR", DesignationUse.SYNONYM, "Hb") in labels
    leukocytes = store.concept(system, "6690-2")
    assert leukocytes is not None and leukocytes.properties["METHOD_TYP"] == "Automated count"
    assert [c.code for c in store.concepts(system, search="kaliemie")] == ["2823-3"]


def test_variant_language_comes_from_the_file_name() -> None:
    assert variant_language(Path("frFR18LinguisticVariant.csv")) == "fr-FR"
    assert variant_language(Path("deAT24LinguisticVariant.csv")) == "de-AT"


def test_deprecated_codes_are_inactive(store: SqlStore, tmp_path: Path) -> None:
    path = tmp_path / "Loinc.csv"
    path.write_text(
        TABLE.read_text(encoding="utf-8").replace(
            '"2093-3","Cholesterol","MCnc","Pt","Ser/Plas","Qn","","CHEM","","","","ACTIVE"',
            '"2093-3","Cholesterol","MCnc","Pt","Ser/Plas","Qn","","CHEM","","","","DEPRECATED"',
        ),
        encoding="utf-8",
    )
    system = run(store, path).code_system
    cholesterol = store.concept(system, "2093-3")
    assert cholesterol is not None and cholesterol.active is False
    assert cholesterol.properties["STATUS"] == "DEPRECATED"


def test_not_a_loinc_table(store: SqlStore, tmp_path: Path) -> None:
    path = tmp_path / "Loinc.csv"
    path.write_text("code,display\nA,B\n", encoding="utf-8")
    with pytest.raises(SourceFileError, match=r"Loinc.csv:1: field 'LOINC_NUM': missing LOINC column"):
        run(store, path)


def test_truncated_table_and_stray_variant_change_nothing(store: SqlStore, tmp_path: Path) -> None:
    run(store, TABLE)
    before = table_counts(store)
    cut = tmp_path / "Loinc.csv"
    text = TABLE.read_text(encoding="utf-8")
    cut.write_text(text[: text.index('"2951-2"') + 40], encoding="utf-8")
    with pytest.raises(SourceFileError, match="expected 40 fields") as caught:
        run(store, cut, version="cut")
    assert caught.value.line == 7
    shutil.copy(TABLE, cut)
    variant = tmp_path / VARIANT
    variant.write_text(
        (FIXTURES / "loinc" / VARIANT).read_text(encoding="utf-8")
        + '"99999-9","X","","","","","","","","","",""\r\n',
        encoding="utf-8",
    )
    with pytest.raises(SourceFileError, match=r"'99999-9', absent from Loinc\.csv"):
        run(store, cut, version="stray", variants=VARIANT)
    assert table_counts(store) == before


def test_invalid_utf8_names_the_line(store: SqlStore, tmp_path: Path) -> None:
    path = tmp_path / "Loinc.csv"
    path.write_bytes(TABLE.read_bytes().replace(b"Hemoglobin [Mass", b"H\xe9moglobin [Mass"))
    with pytest.raises(SourceFileError, match="not valid utf-8") as caught:
        run(store, path)
    assert caught.value.line == 9
