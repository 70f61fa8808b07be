"""Decisions widen the pool: a decided parent's or sibling's target brings its neighbourhood
into the pool as ``decided-neighbour`` candidates, with the features the ranker reads."""

from __future__ import annotations

from pathlib import Path

import polars as pl

from terminology.matching.engine import candidate_pool
from terminology.matching.frames import read_frames
from terminology.matching.pool import PoolSettings
from terminology.storage.store import SqlStore
from tests.terminology.matching.test_ranker import _load

# A local list whose children's labels share nothing with the reference's: only the
# structure can carry "Bilan rénal" where its parent went.
LOCAL = (
    "code,display,parent\n"
    "REIN,Exploration rénale,\n"
    "REIN1,Bilan rénal complet,REIN\n"
    "REIN2,Clairance,REIN\n"
    "FOIE,Exploration hépatique,\n"
)
REFERENCE = (
    "code,display,parent\n"
    "NEPH,Néphrologie,\n"
    "NEPH.CREA,Créatininémie,NEPH\n"
    "NEPH.UREE,Urémie,NEPH\n"
    "HEPA,Hépatologie,\n"
    "HEPA.ASAT,Transaminases,HEPA\n"
)
NARROW = PoolSettings(per_language=1, neighbours=1, parent_targets=1, baseline_top=1)


def pairs(pool: pl.DataFrame, source: str) -> dict[str, dict[str, object]]:
    return {row["target_code"]: row for row in pool.filter(pl.col("source_code") == source).to_dicts()}


def test_a_decided_parent_brings_its_target_and_children(store: SqlStore, tmp_path: Path) -> None:
    frames = read_frames(
        store, _load(store, tmp_path, "local", LOCAL), _load(store, tmp_path, "ref", REFERENCE)
    )
    before = pairs(candidate_pool(frames, pool_settings=NARROW), "REIN2")
    after = pairs(candidate_pool(frames, pool_settings=NARROW, decided={"REIN": ["NEPH"]}), "REIN2")
    assert not {"NEPH", "NEPH.CREA", "NEPH.UREE"} <= set(before)
    assert {"NEPH", "NEPH.CREA", "NEPH.UREE"} <= set(after)
    assert "decided-neighbour" in after["NEPH.UREE"]["methods"]  # type: ignore[operator]
    assert after["NEPH"]["decided_parent"] == 0 and after["NEPH.CREA"]["decided_parent"] == 1
    assert all(row["decided_parent"] is None for row in before.values())
    decided_row = pairs(candidate_pool(frames, decided={"REIN": ["NEPH"]}), "REIN")
    assert all(row["decided_parent"] is None for row in decided_row.values())  # a decided row gets none


def test_a_decided_sibling_brings_its_target_siblings_and_parent(store: SqlStore, tmp_path: Path) -> None:
    frames = read_frames(
        store, _load(store, tmp_path, "local", LOCAL), _load(store, tmp_path, "ref", REFERENCE)
    )
    after = pairs(candidate_pool(frames, pool_settings=NARROW, decided={"REIN1": ["NEPH.CREA"]}), "REIN2")
    assert after["NEPH.CREA"]["decided_sibling"] == 0  # what the sibling got
    assert after["NEPH.UREE"]["decided_sibling"] == 1  # beside it
    assert after["NEPH"]["decided_sibling"] == -1  # above it
    assert after["NEPH.UREE"]["decided_support"] == 1.0
    decided_row = pairs(candidate_pool(frames, decided={"REIN1": ["NEPH.CREA"]}), "REIN1")
    assert all(row["decided_sibling"] is None for row in decided_row.values())  # a decided row gets none
