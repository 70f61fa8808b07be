"""Hierarchy roots and the concepts an import cuts from theirs: counted, named, never silent."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from terminology.cli.main import main
from terminology.importers import importer_class
from terminology.models import CodeSystemMetadata, ImportReport
from terminology.roots import check_hierarchy, list_roots
from terminology.services.code_systems import hierarchy_roots
from terminology.services.importing import import_code_system
from terminology.settings import get_settings
from terminology.storage.store import SqlStore

# Chapter I with one block, and a block "A92-A99" named by eleven categories but never defined:
# with unknown_parents=drop they (and their subcategories) are cut from chapter I.
MISSING = [f"A{n}" for n in range(90, 101)]
CLASSIFICATION = "\n".join(
    [
        "code,kind,parent,display",
        "I,chapter,,Certaines maladies infectieuses",
        "A00-A09,block,I,Maladies intestinales infectieuses",
        "A00,category,A00-A09,Choléra",
        *(f"{code},category,A92-A99,Maladie {code}" for code in MISSING),
        *(f"{code}.0,subcategory,{code},Forme {code}" for code in MISSING[:3]),
        "Z00-Z13,block,,Examens sans plainte",  # no parent at all: an orphan block
        "Z00,category,Z00-Z13,Examen général",
    ]
)


def imported(store: SqlStore, tmp_path: Path, text: str, **options: str) -> ImportReport:
    path = tmp_path / "classification.csv"
    path.write_text(text + "\n", encoding="utf-8")
    importer = importer_class("csv").with_options({"parent_column": "parent", **options})
    metadata = CodeSystemMetadata(url="urn:test:classification", version="1", language="fr")
    return import_code_system(store, importer, path, overrides=metadata)


def test_dropped_parents_are_counted_named_and_cut_concepts_reported(store: SqlStore, tmp_path: Path) -> None:
    report = imported(store, tmp_path, CLASSIFICATION, unknown_parents="drop")
    found = report.hierarchy
    assert found.concepts_missing_parent == 11 and found.missing_parents == ("A92-A99",)
    assert found.cut_from_root == 14  # the eleven categories and the three subcategories under them
    assert found.orphan_roots == tuple(sorted([*MISSING, "Z00-Z13"]))
    assert found.under_orphan_roots == 16  # the fourteen, and the Z block with its category
    first, second = found.warnings
    assert "11 concepts name a parent the file does not define (1 codes: A92-A99)" in first
    assert "14 concepts cut from their root" in first
    assert "12 roots are not chapters (A100, A90, A91" in second and "and 2 more" in second


def test_the_command_line_says_it_loudly(
    store: SqlStore, database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    path = tmp_path / "classification.csv"
    path.write_text(CLASSIFICATION + "\n", encoding="utf-8")
    monkeypatch.setenv("CONCORDANCE_DATABASE_URL", database_url)
    get_settings.cache_clear()
    try:
        arguments = ["import", "csv", str(path), "--url", "urn:t", "--version", "1", "-q"]
        assert main([*arguments, "-o", "parent_column=parent", "-o", "unknown_parents=drop"]) == 0
        out = capsys.readouterr().out
        assert "WARNING: 11 concepts name a parent the file does not define" in out
        assert "no label at all" not in out  # every concept of this file has one
        assert main(["systems", "--roots", "urn:t|1"]) == 0
        listed = capsys.readouterr().out
    finally:
        get_settings.cache_clear()
    assert "13 roots" in listed and "NO (orphan)" in listed
    assert "WARNING: 12 roots are not chapters" in listed


def test_a_whole_file_without_drop_still_refuses_a_missing_parent(store: SqlStore, tmp_path: Path) -> None:
    from terminology.errors import UnknownParentError

    with pytest.raises(UnknownParentError, match="names parent 'A92-A99'"):
        imported(store, tmp_path, CLASSIFICATION)


def test_a_whole_classification_has_no_warning_and_its_chapters_as_roots(
    store: SqlStore, tmp_path: Path
) -> None:
    whole = CLASSIFICATION.replace(",A92-A99,", ",A00-A09,").replace("Z00-Z13,block,,", "Z00-Z13,block,I,")
    report = imported(store, tmp_path, whole)
    assert report.hierarchy.warnings == () and report.hierarchy.orphan_roots == ()
    roots = hierarchy_roots(store, report.code_system)
    assert [(r.code, r.concepts, r.chapter) for r in roots.roots] == [("I", 19, True)]


def test_a_list_without_kinds_has_roots_but_no_chapters(store: SqlStore, tmp_path: Path) -> None:
    report = imported(
        store, tmp_path, "code,display,parent\nGLU,Glucose,\nGLU-J,Glucose à jeun,GLU\nNA,Sodium,"
    )
    assert report.hierarchy.warnings == ()
    roots = hierarchy_roots(store, report.code_system)
    assert [(r.code, r.concepts, r.chapter) for r in roots.roots] == [("GLU", 2, None), ("NA", 1, None)]


def test_roots_of_several_parents_count_each_concept_once() -> None:
    codes = pl.DataFrame({"code": ["I", "II", "X", "X.1"]})
    links = pl.DataFrame({"code": ["X", "X", "X.1"], "parent": ["I", "II", "X"]})
    listed = list_roots(codes, links, pl.DataFrame({"code": ["I"], "display": ["one"]}), None)
    assert [(r.code, r.concepts) for r in listed] == [("I", 3), ("II", 3)]
    check = check_hierarchy(codes, links, pl.DataFrame(schema={"code": pl.String, "parent": pl.String}))
    assert check.warnings() == []
