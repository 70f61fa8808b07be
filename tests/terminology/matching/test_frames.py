"""Matching reads each frame it needs once, before it starts, and never the database
after: the whole pipeline (pool, ranking, property and chapter rules, selection) runs on
frames."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import polars as pl

from terminology.matching.engine import match
from terminology.matching.rules import load_rules
from terminology.models import CodeSystem
from terminology.storage.store import SqlStore
from tests.conftest import ROOT


class CountingReader:
    """The store, counting what matching reads of it."""

    def __init__(self, store: SqlStore) -> None:
        self.store = store
        self.reads: Counter[tuple[str, str]] = Counter()

    def labels_frame(self, system: CodeSystem) -> pl.DataFrame:
        self.reads["labels", system.version] += 1
        return self.store.labels_frame(system)

    def parents_frame(self, system: CodeSystem) -> pl.DataFrame:
        self.reads["parents", system.version] += 1
        return self.store.parents_frame(system)

    def property_frame(self, system: CodeSystem, name: str) -> pl.DataFrame:
        self.reads[f"property {name}", system.version] += 1
        return self.store.property_frame(system, name)

    def __getattr__(self, name: str) -> Any:
        raise AssertionError(f"matching asked the store for {name}")


def test_a_match_with_every_rule_kind_reads_each_frame_once(
    store: SqlStore, samu: dict[str, CodeSystem], tmp_path: Path
) -> None:
    rules = load_rules(sorted((ROOT / "mapping_rules" / "rules").glob("*.yaml")))
    assert rules.code and rules.properties and rules.rewrites and rules.chapters
    reader = CountingReader(store)
    found = match(reader, samu["1.9"], samu["2.3"], **rules.engine_options(), top_k=3)
    assert found
    frames = {kind for kind, _ in reader.reads}
    assert {"labels", "parents"} <= frames
    assert set(reader.reads.values()) == {1}, reader.reads
