"""The candidate pool's features, the ranker, its calibration and the shipped model."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from terminology.importers import importer_class
from terminology.matching.engine import candidate_pool, rank_pool
from terminology.matching.frames import read_frames
from terminology.matching.pool import PoolSettings
from terminology.matching.ranker import (
    RankingModel,
    default_model,
    expected_calibration_error,
    fit_project_model,
    label_pool,
    top_targets,
)
from terminology.models import CodeSystem, CodeSystemMetadata
from terminology.services.importing import import_code_system
from terminology.storage.database import SqlDatabase
from terminology.storage.store import SqlStore
from tests.conftest import ROOT

CIM = (
    "code,display,parent\n"
    "I,Certaines maladies infectieuses,\n"
    "A00,Choléra,I\n"
    "A00.0,A Vibrio cholerae 01 biovar cholerae,A00\n"
    "A00.9,Choléra sans précision,A00\n"
    "A01,Fièvres typhoïde et paratyphoïde,I\n"
    "A01.0,Fièvre typhoïde,A01\n"
    "A01.4,Paratyphoïde sans précision,A01\n"
    "A09,Autres gastro-entérites et colites d'origine infectieuse,I\n"
)
LOCAL = (
    "code,display,parent\n"
    "TYPH,Fièvre typhoïde,\n"
    "TYPHB,Fièvre typhoïde avec atteinte pulmonaire,TYPH\n"
    "TYPHX,Forme non précisée,TYPH\n"
    "COL,Colite infectieuse autre,\n"
)


def _load(store: SqlStore, tmp_path: Path, name: str, text: str) -> CodeSystem:
    path = tmp_path / f"{name}.csv"
    path.write_text(text, encoding="utf-8")
    return import_code_system(
        store,
        importer_class("csv").with_options({"parent_column": "parent"}),
        path,
        overrides=CodeSystemMetadata(url=f"urn:{name}", version="1", language="fr"),
    ).code_system


@pytest.fixture
def pool(store: SqlStore, tmp_path: Path) -> pl.DataFrame:
    source = _load(store, tmp_path, "local", LOCAL)
    target = _load(store, tmp_path, "cim", CIM)
    return candidate_pool(read_frames(store, source, target))


def _pair(pool: pl.DataFrame, source: str, target: str) -> dict[str, object]:
    rows = pool.filter((pl.col("source_code") == source) & (pl.col("target_code") == target)).to_dicts()
    assert rows, f"{source} → {target} is not in the pool"
    return rows[0]


def test_ancestors_of_close_neighbours_join_the_pool_with_their_distance(
    store: SqlStore, tmp_path: Path
) -> None:
    """ "Fièvre typhoïde avec atteinte pulmonaire" has no concept as specific: with only its
    best lexical neighbour kept, the category above that leaf is proposed one level up and
    the chapter two levels up, as ancestors."""
    source = _load(store, tmp_path, "local", LOCAL)
    target = _load(store, tmp_path, "cim", CIM)
    narrow = candidate_pool(
        read_frames(store, source, target),
        pool_settings=PoolSettings(per_language=1, neighbours=1, parent_targets=1, baseline_top=0),
    )
    leaf = _pair(narrow, "TYPHB", "A01.0")
    category = _pair(narrow, "TYPHB", "A01")
    chapter = _pair(narrow, "TYPHB", "I")
    assert leaf["methods"][0] == "lexical" and leaf["cover_levels"] == 0  # the neighbour itself
    assert category["methods"] == ["ancestor"] and category["cover_levels"] == 1
    assert chapter["methods"] == ["ancestor"] and chapter["cover_levels"] == 2
    assert category["cover_lex"] == leaf["lex_best"] and category["lex_best"] == 0.0
    assert category["target_depth"] == 1 and category["target_children"] == 2
    assert chapter["target_depth"] == 0 and leaf["target_children"] == 0


def test_residual_categories_are_flagged_on_both_sides(pool: pl.DataFrame) -> None:
    other = _pair(pool, "COL", "A09")
    assert (other["source_other"], other["target_other"]) == (1, 1)
    unspecified = _pair(pool, "TYPHX", "A01.4")
    assert (unspecified["source_unspecified"], unspecified["target_unspecified"]) == (1, 1)
    assert _pair(pool, "TYPH", "A01.0")["source_unspecified"] == 0


def test_the_parent_context_proposes_and_places_targets(pool: pl.DataFrame) -> None:
    """ "Forme non précisée" says nothing by itself; its parent "Fièvre typhoïde" is best
    matched to A01.0, so A01.0 is proposed for it and A01.4 (a sibling) is not under it."""
    context = _pair(pool, "TYPHX", "A01.0")
    assert "parent-context" in context["methods"] and context["context_levels"] == 1
    assert context["parent_best_down"] == 0 and context["parent_best_up"] == 0
    above = _pair(pool, "TYPHX", "A01")
    assert above["parent_best_up"] == 1
    assert _pair(pool, "TYPH", "A01.0")["parent_best_down"] is None  # a root has no parent


def test_retraining_on_decisions_changes_the_order_of_the_remaining_rows(pool: pl.DataFrame) -> None:
    """Curators of this project always choose the category, never the leaf: after a few
    decisions the model ranks categories first for the sources not decided yet."""
    model = default_model()
    parent_of = {"A00.0": "A00", "A00.9": "A00", "A01.0": "A01", "A01.4": "A01"}
    before = top_targets(rank_pool(pool, model), 1)
    wanted = {s: parent_of.get(t[0], t[0]) for s, t in before.items()}
    decided = ["TYPH", "TYPHX", "COL"]
    gold = {s: ({wanted[s]}, "wider") for s in decided}
    labelled = label_pool(pool, gold).sort("source_code", "target_code")
    project = fit_project_model(model, labelled, name="project", decisions=len(decided))
    assert project.project and "3 decisions" in project.describe()
    after = rank_pool(pool.filter(pl.col("source_code") == "TYPHB"), project)
    leaf_before = rank_pool(pool.filter(pl.col("source_code") == "TYPHB"), model)

    def probability(frame: pl.DataFrame, target: str) -> float:
        return float(frame.filter(pl.col("target_code") == target).get_column("score")[0])

    assert probability(after, "A01") - probability(after, "A01.0") > probability(
        leaf_before, "A01"
    ) - probability(leaf_before, "A01.0")
    assert (
        "ranked by the project model (default + 3 decisions of this project)" in after.get_column("reason")[0]
    )


def test_without_a_positive_and_a_negative_example_the_default_stays(pool: pl.DataFrame) -> None:
    model = default_model()
    empty = label_pool(pool, {}).with_columns(pl.lit(0, dtype=pl.Int8).alias("validated"))
    same = fit_project_model(model, empty, name="project", decisions=0)
    assert same.project == () and np.allclose(same.probabilities(pool), model.probabilities(pool))


def test_a_model_round_trips_through_json_and_refuses_other_features(pool: pl.DataFrame) -> None:
    model = default_model()
    again = RankingModel.from_json(model.to_json())
    assert np.allclose(again.probabilities(pool), model.probabilities(pool))
    stale = RankingModel.from_json(model.to_json().replace('"sim_first"', '"sim_old"', 1))
    with pytest.raises(ValueError, match="trained on other features"):
        stale.probabilities(pool)


def test_scores_are_calibrated_on_sources_the_model_never_saw(tmp_path: Path) -> None:
    """Half 1 of ICD-10-CM → ICD-10 WHO (the shipped model saw half 0 only): among the top 5
    candidates of each source, predicted probabilities match observed frequencies."""
    sys.path.insert(0, str(ROOT))
    from benchmarks.gold_sets import cm_who_task, split
    from terminology.settings import Settings
    from terminology.storage import migrate
    from terminology.storage.engine import make_engine

    engine = make_engine(Settings(database_url=f"sqlite:///{tmp_path / 'icd.db'}"))
    migrate.upgrade(engine)
    store = SqlDatabase(engine)
    task = cm_who_task(store)
    held_out = split(task.gold, 1)
    ranked = rank_pool(candidate_pool(read_frames(store, task.source, task.target)), default_model())
    shown = label_pool(ranked.filter(pl.col("rank") <= 5), held_out)
    error = expected_calibration_error(
        shown.get_column("score").to_numpy(), shown.get_column("validated").to_numpy()
    )
    assert error < 0.05  # measured 0.013
    best = top_targets(shown, 1)
    top1 = np.mean([best.get(code, [""])[0] in targets for code, (targets, _) in held_out.items()])
    assert top1 > 0.75


def test_the_shipped_model_is_reproducible_from_the_training_script() -> None:
    done = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "train_default_model.py"), "--check"],
        capture_output=True,
        text=True,
        timeout=600,
        cwd=ROOT,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "identical to the shipped model" in done.stdout


def test_every_registered_generator_proposes_and_is_named(store: SqlStore, tmp_path: Path) -> None:
    """Each candidate generator of the registry proposes pairs on a task with hierarchies and
    one decision, and every pair names the generators that proposed it."""
    from terminology.matching.pool import GENERATORS

    source = _load(store, tmp_path, "local", LOCAL)
    target = _load(store, tmp_path, "cim", CIM)
    pool = candidate_pool(read_frames(store, source, target), decided={"TYPH": ["A01"]})
    named = set(pool.get_column("methods").explode().unique().to_list())
    assert set(GENERATORS) <= named, named
