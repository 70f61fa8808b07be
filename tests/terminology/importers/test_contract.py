"""The contract every registered importer keeps, checked for each one by the same tests: a
good file imports; importing it again changes nothing; a damaged copy (cut off mid-record,
as an interrupted download leaves it) is refused naming the file and where in it, and the
database is as it was. A new importer is registered with a specimen here or this suite
fails."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from terminology.errors import SourceFileError
from terminology.importers import format_names, importer_class, media_types
from terminology.models import CodeSystemMetadata, ImportOutcome, ImportReport
from terminology.services.importing import import_code_system
from terminology.storage.store import SqlStore
from tests.conftest import BUNDLED, FIXTURES, table_counts


def cut_text(fraction: float) -> Callable[[Path, Path], Path]:
    """A copy of the file cut at ``fraction`` of its characters."""

    def damage(good: Path, folder: Path) -> Path:
        text = good.read_text(encoding="utf-8")
        copy = folder / good.name
        copy.write_text(text[: int(len(text) * fraction)], encoding="utf-8")
        return copy

    return damage


def cut_inside_a_record(good: Path, folder: Path) -> Path:
    """A copy of a delimited file whose sixth line stops after 30 characters."""
    lines = good.read_text(encoding="utf-8").splitlines(keepends=True)
    copy = folder / good.name
    copy.write_text("".join(lines[:5]) + lines[5][:30], encoding="utf-8")
    return copy


def cut_an_unclosed_quote(good: Path, folder: Path) -> Path:
    """A copy of a CSV whose fourth line opens a quote that never closes."""
    lines = good.read_text(encoding="utf-8").splitlines(keepends=True)
    copy = folder / good.name
    copy.write_text("".join(lines[:3]) + '"' + "".join(lines[3:]), encoding="utf-8")
    return copy


def cut_rf2_descriptions(good: Path, folder: Path) -> Path:
    copy = folder / "release"
    shutil.copytree(good, copy)
    descriptions = next(copy.rglob("sct2_Description_Snapshot-en*.txt"))
    cut_inside_a_record(descriptions, descriptions.parent)
    return copy


CONTRACT = CodeSystemMetadata(version="contract")


@dataclass(frozen=True)
class Specimen:
    good: Path
    damage: Callable[[Path, Path], Path]
    metadata: CodeSystemMetadata = CONTRACT


SPECIMENS: dict[str, Specimen] = {
    "csv": Specimen(
        BUNDLED / "samu_nomenclature" / "samu_nomenclature_v2.3.csv",
        cut_an_unclosed_quote,
        CodeSystemMetadata(url="urn:contract:samu", version="2.3", language="fr"),
    ),
    "fhir": Specimen(FIXTURES / "cim10_fr_sample.codesystem.json", cut_text(0.5)),
    "claml": Specimen(FIXTURES / "icd10_who_sample.claml.xml", cut_text(0.5)),
    "loinc": Specimen(FIXTURES / "loinc" / "Loinc.csv", cut_inside_a_record),
    "snomed-rf2": Specimen(FIXTURES / "snomed_rf2", cut_rf2_descriptions),
    "owl": Specimen(FIXTURES / "cim10_sample.owl", cut_text(0.5)),
    "skos": Specimen(FIXTURES / "samu_nomenclature_sample.ttl", cut_text(0.5)),
}


def run(store: SqlStore, format_name: str, path: Path) -> ImportReport:
    specimen = SPECIMENS[format_name]
    return import_code_system(
        store, importer_class(format_name).with_options({}), path, overrides=specimen.metadata
    )


def test_every_registered_importer_has_a_specimen() -> None:
    assert sorted(SPECIMENS) == sorted(format_names())


@pytest.mark.parametrize("format_name", format_names())
def test_a_good_file_imports_and_again_changes_nothing(store: SqlStore, format_name: str) -> None:
    first = run(store, format_name, SPECIMENS[format_name].good)
    assert first.outcome is ImportOutcome.CREATED and first.code_system.concept_count > 0
    before = table_counts(store)
    again = run(store, format_name, SPECIMENS[format_name].good)
    assert again.outcome is ImportOutcome.UNCHANGED and again.code_system == first.code_system
    assert table_counts(store) == before


@pytest.mark.parametrize("format_name", format_names())
def test_a_damaged_file_is_refused_where_it_breaks_and_changes_nothing(
    store: SqlStore, tmp_path: Path, format_name: str
) -> None:
    specimen = SPECIMENS[format_name]
    damaged = specimen.damage(specimen.good, tmp_path)
    before = table_counts(store)
    with pytest.raises(SourceFileError) as refused:
        run(store, format_name, damaged)
    error = refused.value
    assert Path(error.path).name in {damaged.name} | {p.name for p in damaged.rglob("*")}
    assert error.line is not None or error.element is not None, str(error)
    assert str(error).startswith(error.path + (f":{error.line}" if error.line is not None else ""))
    assert table_counts(store) == before


@pytest.mark.parametrize("format_name", format_names())
def test_every_importer_is_found_by_its_media_types(format_name: str) -> None:
    for media_type in media_types(format_name):
        assert importer_class(media_type) is importer_class(format_name)
