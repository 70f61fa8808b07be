"""The import pipeline itself: progress reporting, cycle search, option parsing."""

from __future__ import annotations

from pathlib import Path

import pytest

from terminology.errors import InvalidImportOptionError
from terminology.importers import importer_class
from terminology.services.importing import find_cycle, import_code_system, options_from_pairs
from terminology.storage.store import SqlStore
from tests.conftest import BUNDLED, FIXTURES


@pytest.mark.parametrize(
    ("format_name", "path", "options"),
    [
        ("csv", BUNDLED / "samu_nomenclature" / "samu_nomenclature_v2.3.csv", {}),
        (
            "csv",
            BUNDLED / "samu_nomenclature" / "samu_nomenclature_v2.3.csv",
            {"encoding": "utf-8", "delimiter": ","},
        ),
        ("claml", FIXTURES / "icd10_who_sample.claml.xml", {}),
        ("loinc", FIXTURES / "loinc" / "Loinc.csv", {}),
    ],
)
def test_progress_reports_every_byte_of_the_source(
    store: SqlStore, format_name: str, path: Path, options: dict[str, str]
) -> None:
    seen: list[int] = []
    importer = importer_class(format_name).with_options(options)
    import_code_system(store, importer, path, progress=seen.append)
    assert len(seen) >= 1 and all(step > 0 for step in seen)
    assert abs(sum(seen) - path.stat().st_size) <= len(seen)  # batch shares round down


def test_records_path_reports_progress_for_windows_1252(store: SqlStore, tmp_path: Path) -> None:
    path = tmp_path / "labo.csv"
    path.write_bytes(
        ("code;display\n" + "".join(f"K{i};Kaliémie {i}\n" for i in range(5000))).encode("cp1252")
    )
    seen: list[int] = []
    import_code_system(
        store, importer_class("csv").with_options({"encoding": "cp1252"}), path, progress=seen.append
    )
    assert sum(seen) == path.stat().st_size


def test_find_cycle_in_a_long_chain_without_recursion() -> None:
    chain = {f"c{i}": [f"c{i + 1}"] for i in range(100_000)}
    assert find_cycle(chain) is None
    chain["c100000"] = ["c0"]
    cycle = find_cycle(chain)
    assert cycle is not None and len(cycle) == 100_001


def test_repeated_options_make_a_list_and_bad_ones_are_refused() -> None:
    assert options_from_pairs(["variants=a.csv", "variants=b.csv"]) == {"variants": ["a.csv", "b.csv"]}
    assert options_from_pairs(["key-column=uri"]) == {"key_column": "uri"}
    with pytest.raises(InvalidImportOptionError, match="key=value"):
        options_from_pairs(["=x"])
