"""Mapping memory: validated pairs from other maps, offered again (real HL7 status maps)."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from terminology.errors import SourceFileError
from terminology.importers import importer_class
from terminology.matching.engine import match
from terminology.matching.memory import MappingMemory, RememberedMapping, load_memory
from terminology.models import CodeSystemMetadata
from terminology.services.importing import import_code_system
from terminology.storage.store import SqlStore
from tests.conftest import BUNDLED

PAIRS = BUNDLED / "hl7_conceptmaps" / "fhir_r4_conceptmap_pairs.csv"
STATUS = "http://hl7.org/fhir/resource-status"


def status_maps() -> pl.DataFrame:
    return pl.read_csv(PAIRS, infer_schema=False).filter(
        (pl.col("target_system") == STATUS) & pl.col("source_display").is_not_null()
    )


def write_memory(path: Path, rows: pl.DataFrame) -> Path:
    rows.select(
        source_label="source_display",
        target_system="target_system",
        target_code="target_code",
        equivalence="equivalence",
        origin="conceptmap_id",
    ).write_csv(path)
    return path


def load_side(store: SqlStore, tmp_path: Path, rows: pl.DataFrame, side: str, url: str) -> object:
    path = tmp_path / f"{side}.csv"
    rows.select(code=f"{side}_code", display=f"{side}_display").unique("code").sort("code").write_csv(path)
    metadata = CodeSystemMetadata(url=url, version="1", language="en", name=side)
    return import_code_system(
        store, importer_class("csv").with_options({}), path, overrides=metadata
    ).code_system


def test_other_maps_teach_a_new_map_its_status_words(store: SqlStore, tmp_path: Path) -> None:
    """Leave one map out: the task-status map learns from the other status maps only."""
    maps = status_maps()
    held_out = maps.filter(pl.col("conceptmap_id") == "sc-task-status")
    assert held_out.height > 5
    memory = load_memory(
        write_memory(tmp_path / "memory.csv", maps.filter(pl.col("conceptmap_id") != "sc-task-status"))
    )
    source = load_side(store, tmp_path, held_out, "source", "http://hl7.org/fhir/task-status")
    target = load_side(store, tmp_path, held_out, "target", STATUS)
    without = {c.source_code: c for c in match(store, source, target, min_score=0.0) if c.rank == 1}
    found = match(store, source, target, memory=memory, min_score=0.0)
    best = {c.source_code: c for c in found if c.rank == 1}
    gold = dict(zip(held_out["source_code"], held_out["target_code"], strict=True))
    right_with = sum(best[code].target_code == wanted for code, wanted in gold.items())
    right_without = sum(
        without[code].target_code == wanted for code, wanted in gold.items() if code in without
    )
    assert right_with > right_without
    in_progress = best["in-progress"]
    assert in_progress.target_code == "active" and in_progress.method == "memory"
    assert in_progress.rules == ("memory",)
    assert in_progress.reason.startswith('validated before: "In Progress" → active in ')
    assert 0.8 <= in_progress.score <= 1.0


def test_memory_for_another_target_system_is_ignored(store: SqlStore, tmp_path: Path) -> None:
    held_out = status_maps().filter(pl.col("conceptmap_id") == "sc-task-status")
    source = load_side(store, tmp_path, held_out, "source", "http://hl7.org/fhir/task-status")
    target = load_side(store, tmp_path, held_out, "target", STATUS)
    elsewhere = MappingMemory((RememberedMapping("In Progress", "urn:other", "active", origin="x"),))
    found = match(store, source, target, memory=elsewhere, min_score=0.0)
    assert all(candidate.method != "memory" for candidate in found)


def test_a_remembered_code_missing_from_the_target_is_not_proposed(store: SqlStore, tmp_path: Path) -> None:
    held_out = status_maps().filter(pl.col("conceptmap_id") == "sc-task-status")
    source = load_side(store, tmp_path, held_out, "source", "http://hl7.org/fhir/task-status")
    target = load_side(store, tmp_path, held_out, "target", STATUS)
    retired = MappingMemory((RememberedMapping("In Progress", STATUS, "no-such-code", origin="x"),))
    found = match(store, source, target, memory=retired, min_score=0.0)
    assert "no-such-code" not in {candidate.target_code for candidate in found}


@pytest.mark.parametrize(
    ("text", "line", "field"),
    [
        ("source_label,target_code\nIn Progress,active\n", 1, None),
        (
            "source_label,target_system,target_code\nIn Progress,urn:s,active\nOn Hold,urn:s,\n",
            3,
            "target_code",
        ),
    ],
)
def test_a_broken_memory_file_names_file_line_and_field(
    tmp_path: Path, text: str, line: int, field: str | None
) -> None:
    path = tmp_path / "memory.csv"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(SourceFileError) as caught:
        load_memory(path)
    assert caught.value.path == str(path) and caught.value.line == line and caught.value.field == field
    assert str(caught.value).startswith(f"{path}:{line}:")
