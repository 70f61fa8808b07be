"""Pools of the gold-set variants and the ranking models trained on them.

Shared by ``train_default_model.py`` (the shipped model: every variant's half 0) and
``quality.py`` (the same, and leave-one-task-out: for each gold set, a model trained on
every *other* set's half 0). One function builds the training rows for both, so the
model measured as "shipped" is the model shipped.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import polars as pl

from benchmarks.gold_sets import Variant, calibration_share, simulated_decisions, training_share
from terminology.matching.engine import candidate_pool
from terminology.matching.frames import read_frames
from terminology.matching.ranker import RankingModel, fit_base_model, label_pool
from terminology.matching.rules import RuleSet, load_rules
from terminology.storage.store import SqlStore


@dataclass
class VariantPool:
    """A variant and its candidate pool, kept for the sources it trains and is scored on."""

    variant: Variant
    train: pl.DataFrame
    """The labelled pool of its training sources (``validated``, ``equivalence``, ``task``)."""
    score: pl.DataFrame
    """The pool of its scored sources, unlabelled (what a curator would be shown)."""


def variant_pool(store: SqlStore, variant: Variant, *, scoring: bool = True) -> VariantPool:
    """The variant's pools (with its rules and memory when it is a ``+rules`` variant): for
    training, with a share of its training sources taken as decided (their neighbours get
    the decided-neighbour evidence; they themselves are not trained on); for scoring
    (unless ``scoring`` is false), with no decision at all."""
    task = variant.task
    rules = load_rules(task.rules) if variant.with_rules and task.rules else RuleSet()
    frames = read_frames(store, task.source, task.target)

    def pool_of(decided: dict[str, list[str]] | None) -> pl.DataFrame:
        return candidate_pool(
            frames,
            code_rules=rules.code if variant.with_rules else None,
            memory=task.memory if variant.with_rules else None,
            label_rewrites=rules.rewrites if variant.with_rules else None,
            hierarchies=variant.hierarchies,
            decided=decided,
        )

    decided = simulated_decisions(variant.train) if variant.hierarchies else {}
    pool = pool_of(decided or None)
    training = {c: v for c, v in training_share(variant.train).items() if c not in decided}
    labelled = (
        label_pool(pool, training).with_columns(pl.lit(variant.name).alias("task"))
        if training
        else pool.clear().with_columns(
            pl.lit(0, dtype=pl.Int8).alias("validated"),
            pl.lit(None, dtype=pl.String).alias("equivalence"),
            pl.lit(variant.name).alias("task"),
        )
    )
    scored = (
        (pool_of(None) if decided else pool).filter(pl.col("source_code").is_in(list(variant.score)))
        if scoring and variant.score
        else pool.clear()
    )
    return VariantPool(variant, labelled, scored)


def training_rows(pools: list[VariantPool], *, leave_out: str | None = None) -> pl.DataFrame:
    """Every variant's labelled training rows except those of the gold set ``leave_out``,
    in a fixed order (the shipped model must be rebuilt byte for byte)."""
    kept = [p.train for p in pools if p.variant.gold_set != leave_out and p.train.height]
    return pl.concat(kept, how="diagonal_relaxed").sort("task", "source_code", "target_code")


def fit_on(rows: pl.DataFrame, *, name: str, provenance: dict[str, Any] | None = None) -> RankingModel:
    """The base model fitted on ``rows``, calibrated on a tenth of their sources kept out."""
    held = rows.get_column("source_code").map_elements(calibration_share, return_dtype=pl.Boolean)
    train, calibrate = rows.filter(~held), rows.filter(held)
    details = {
        **(provenance or {}),
        "rows": {"train": train.height, "calibrate": calibrate.height},
        "sources": {
            "train": train.select("task", "source_code").n_unique(),
            "calibrate": calibrate.select("task", "source_code").n_unique(),
        },
        "tasks": sorted(set(rows.get_column("task").to_list())),
    }
    return fit_base_model(train, calibrate, name=name, provenance=details)
