"""The ``csv`` importer on real bundled lists and on every kind of bad file.

Bad files must give an error naming file, line and field, and leave the
database exactly as it was.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from terminology.errors import (
    DuplicateCodeError,
    HierarchyCycleError,
    InvalidImportOptionError,
    SourceFileError,
    UnknownParentError,
)
from terminology.importers import importer_class
from terminology.models import CodeSystemMetadata
from terminology.services.importing import import_code_system
from terminology.storage.store import SqlStore
from tests.conftest import BUNDLED, table_counts

GOOD = "code,display,parent,synonyms,unit\nGLU,Glucose sang,,glycémie|gly,mmol/L\nGLU-J,Glucose à jeun,GLU,,mmol/L\n"


def run(store: SqlStore, path: Path, version: str = "1", **options: object):
    importer = importer_class("csv").with_options(dict(options))
    metadata = CodeSystemMetadata(url="urn:test:lab", version=version, language="fr")
    return import_code_system(store, importer, path, overrides=metadata)


def write(tmp_path: Path, text: str | bytes, name: str = "lab.csv") -> Path:
    path = tmp_path / name
    path.write_bytes(text if isinstance(text, bytes) else text.encode("utf-8"))
    return path


def test_real_cim10_fr_list_loads_with_presets_of_columns(store: SqlStore) -> None:
    source = BUNDLED / "cim10_fr" / "cim10_fr_concepts.csv"
    report = run(
        store,
        source,
        display_column="label_fr",
        parent_column="parent_code",
        language_columns="en=label_en_who2019",
        ignore_columns="label_fr_composed,label_en_gnuhealth",
    )
    system = report.code_system
    assert report.dropped_parent_links == 0 and report.hierarchy.warnings == ()
    assert system.concept_count == 14_715
    # 1,293 rows lack a French label; all but 12 take their English label as display
    assert report.concepts_without_display == 12
    assert set(system.languages) == {"en", "fr"}
    cholera = store.concept(system, "A00.0")
    assert cholera is not None
    assert cholera.display == "A Vibrio cholerae 01, biovar cholerae"
    assert cholera.parents == ("A00",)
    assert cholera.properties["kind"] == "subcategory"
    assert ("en", "Cholera due to Vibrio cholerae 01, biovar cholerae") in [
        (d.language, d.value) for d in cholera.designations
    ]
    assert store.children(system, "A00") == ["A00.0", "A00.1", "A00.9"]


def test_key_column_resolves_parent_references_and_missing_codes(store: SqlStore) -> None:
    source = BUNDLED / "cim11_fr" / "cim11_mms_concepts.csv"
    report = run(
        store,
        source,
        display_column="label_fr",
        key_column="entity_uri",
        parent_column="parent_entity_uri",
        missing_code="use-key",
        language_columns="en=label_en",
    )
    system = report.code_system
    assert system.concept_count == 36_044
    cholera = store.concept(system, "1A00")
    assert cholera is not None and cholera.display == "Choléra"
    parent = store.concept(system, cholera.parents[0])
    assert parent is not None and parent.code.startswith("http://id.who.int/icd/entity/")


@pytest.mark.parametrize("encoding", ["cp1252", "latin-1"])
def test_windows_1252_and_latin1_files_read_correctly(store: SqlStore, tmp_path: Path, encoding: str) -> None:
    path = write(
        tmp_path,
        "code;libellé;parent\nHB;Hémoglobine;\nHBA1C;Hémoglobine glyquée;HB\n".encode(encoding),
    )
    report = run(store, path, encoding=encoding, display_column="libellé")
    concept = store.concept(report.code_system, "HBA1C")
    assert concept is not None and concept.display == "Hémoglobine glyquée" and concept.parents == ("HB",)


def test_xlsx_sheet(store: SqlStore, tmp_path: Path) -> None:
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "Codes"
    for row in (
        ["code", "display", "parent"],
        ["K", "Kaliémie", None],
        [1001, "Potassium urinaire", "K"],
    ):
        sheet.append(row)
    path = tmp_path / "lab.xlsx"
    book.save(path)
    report = run(store, path, sheet="Codes")
    assert report.code_system.concept_count == 2
    concept = store.concept(report.code_system, "1001")
    assert concept is not None and concept.parents == ("K",)


def test_quoted_multiline_fields_keep_exact_line_numbers(store: SqlStore, tmp_path: Path) -> None:
    path = write(tmp_path, 'code,display\nA,"Alpha\nsur deux lignes"\nA,Again\n')
    with pytest.raises(DuplicateCodeError) as caught:
        run(store, path)
    assert caught.value.line == 4 and "first at line 3" in str(caught.value)


BAD_FILES = [
    ("truncated", GOOD + "GLU-P,Glucose post", SourceFileError, 4, None),
    ("unterminated quote", GOOD + 'X,"Glucose\n', SourceFileError, 4, None),
    ("missing column", "code,label\nA,x\n", SourceFileError, 1, "display"),
    ("duplicate codes", GOOD + "GLU,Glucose encore,,,\n", DuplicateCodeError, 4, "code"),
    ("unknown parent", GOOD + "X,Autre,NOPE,,\n", UnknownParentError, 4, "parent"),
    ("cycle", "code,display,parent\nA,a,C\nB,b,A\nC,c,B\n", HierarchyCycleError, 2, "parent"),
    ("self parent", "code,display,parent\nA,a,A\n", HierarchyCycleError, 2, "parent"),
    ("empty code", GOOD + ",Sans code,,,\n", SourceFileError, 4, "code"),
    ("invalid utf-8", GOOD.encode() + b"X,H\xe9moglobine,,,\n", SourceFileError, 4, None),
    ("empty file", "", SourceFileError, 1, None),
]


@pytest.mark.parametrize(("case", "text", "error", "line", "field"), BAD_FILES, ids=[c[0] for c in BAD_FILES])
def test_bad_files_are_refused_with_location_and_change_nothing(
    store: SqlStore,
    tmp_path: Path,
    case: str,
    text: str | bytes,
    error: type[Exception],
    line: int,
    field: str | None,
) -> None:
    run(store, write(tmp_path, GOOD, "other.csv"))  # something already stored must survive
    before = table_counts(store)
    path = write(tmp_path, text)
    with pytest.raises(error) as caught:
        run(store, path, version="2")
    assert isinstance(caught.value, SourceFileError)
    assert caught.value.path == str(path)
    assert caught.value.line == line, str(caught.value)
    if field:
        assert caught.value.field == field
    assert str(caught.value).startswith(f"{path}:{line}:")
    assert table_counts(store) == before


def test_invalid_utf8_error_suggests_the_encoding_option(store: SqlStore, tmp_path: Path) -> None:
    with pytest.raises(SourceFileError, match="encoding=cp1252"):
        run(store, write(tmp_path, b"code,display\nA,H\xe9mo\n"))


def test_misnamed_column_gets_a_suggestion(store: SqlStore, tmp_path: Path) -> None:
    with pytest.raises(SourceFileError, match="did you mean 'displays'"):
        run(store, write(tmp_path, "code,displays\nA,x\n"))


def test_unknown_option_is_refused() -> None:
    with pytest.raises(InvalidImportOptionError, match="colour"):
        importer_class("csv").with_options({"colour": "blue"})


def test_columnar_and_record_paths_store_the_same_concepts(store: SqlStore, tmp_path: Path) -> None:
    """UTF-8 files take the polars path, other encodings the record path: same result."""
    text = (
        "uri;code;libellé;parent_uri;synonymes;label_en;unité;actif;système\n"
        "u:1;HB;Hémoglobine;;Hb|hémoglobinémie;Hemoglobin;g/dL;oui;labo\n"
        "u:2;;Groupe sans code;u:1;;;;;labo\n"
        "u:3;HBA1C; Hémoglobine glyquée ;u:2;HbA1c;Glycated hemoglobin;%;non;labo\n"
        "u:4;X;Hors périmètre;;;;;oui;autre\n"
    )
    options = {
        "delimiter": ";",
        "display_column": "libellé",
        "key_column": "uri",
        "parent_column": "parent_uri",
        "synonyms_column": "synonymes",
        "language_columns": "en=label_en",
        "active_column": "actif",
        "missing_code": "use-key",
        "where": "système=labo",
        "ignore_columns": "système",
    }
    results = []
    for number, encoding in enumerate(("utf-8", "cp1252")):
        path = tmp_path / f"labo-{encoding}.csv"
        path.write_bytes(text.encode(encoding))
        importer = importer_class("csv").with_options({"encoding": encoding, **options})
        assert (importer._fast_reader(path) is not None) is (encoding == "utf-8")  # type: ignore[attr-defined]
        report = run(store, path, version=str(number), encoding=encoding, **options)
        system = report.code_system
        results.append([c.model_dump() for c in store.concepts(system, limit=100)])
    assert results[0] == results[1]
    by_code = {c["code"]: c for c in results[0]}
    assert set(by_code) == {"HB", "u:2", "HBA1C"}
    assert by_code["HBA1C"]["parents"] == ("u:2",) and by_code["u:2"]["parents"] == ("HB",)
    assert by_code["HBA1C"]["display"] == "Hémoglobine glyquée" and by_code["HBA1C"]["active"] is False
    assert by_code["HB"]["properties"] == {"unité": "g/dL"}
