"""Learning from a project's decisions: match again, fit the project's model on what
curators accepted, and re-rank what is left for them.

The project's source and target versions, rule files and mapping memory are those its
last match recorded, so the pool is the one curators saw. Positive examples are the
targets of accepted rows; every other candidate of those rows is a negative one.
Rows already decided keep their decision; only candidates change.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from terminology.matching.engine import candidate_pool, candidates_from, rank_pool
from terminology.matching.memory import MappingMemory, load_memory
from terminology.matching.ranker import RankingModel, default_model, fit_project_model, label_pool
from terminology.matching.rules import load_rules
from terminology.models import Candidate
from terminology.storage import curation
from terminology.storage.projects import save_candidates
from terminology.storage.store import SqlStore


@dataclass(frozen=True)
class Retraining:
    """What retraining a project did."""

    project: str
    decisions: int
    """Accepted rows the model learnt from."""
    candidates: int
    sources: int
    model: str


def project_model(
    store: SqlStore, project: curation.Project, pool: pl.DataFrame, base: RankingModel | None = None
) -> tuple[RankingModel, int]:
    """The default model adjusted to the project's accepted decisions, and how many there were."""
    accepted = curation.accepted_targets(store, project)
    gold = {code: ({t.code for t in targets}, targets[0].equivalence) for code, targets in accepted.items()}
    decided = label_pool(pool, gold).sort("source_code", "target_code") if gold else pool.clear()
    if "validated" not in decided.columns:
        decided = decided.with_columns(pl.lit(0, dtype=pl.Int8).alias("validated"))
    model = fit_project_model(base or default_model(), decided, name="project", decisions=len(gold))
    return model, len(gold)


def retrain_due(store: SqlStore, project: curation.Project, every: int) -> bool:
    """Whether ``every`` more rows were accepted since the project's model last learnt."""
    if every <= 0:
        return False
    with store.engine.connect() as connection:
        settings = connection.execute(
            curation.projects.select()
            .with_only_columns(curation.projects.c.settings)
            .where(curation.projects.c.id == project.id)
        ).scalar()
    learnt = int((settings or {}).get("decisions_learnt", 0))
    return curation.status_counts(store, project).get("accepted", 0) - learnt >= every


def retrain_project(
    store: SqlStore,
    name: str | int,
    *,
    progress: Callable[[int], None] = lambda _: None,
) -> tuple[Retraining, list[Candidate]]:
    """Match the project again with a model fitted on its decisions and store the new
    candidates (the rows and their decisions stay); returns what was done and the candidates."""
    project = curation.get_project(store, name)
    with store.engine.connect() as connection:
        record = connection.execute(
            curation.projects.select().where(curation.projects.c.id == project.id)
        ).one()
    settings = dict(record.settings or {})
    rule_paths = [Path(path) for path in record.rules or []]
    rules = load_rules(rule_paths)
    memory = sum((load_memory(Path(path)) for path in settings.get("memory", [])), MappingMemory())
    source = store.code_system_by_id(project.source_system_id)
    target = store.code_system_by_id(project.target_system_id)
    pool = candidate_pool(
        store,
        source,
        target,
        code_rules=rules.code,
        memory=memory,
        label_rewrites=rules.rewrites,
        progress=progress,
    )
    model, decisions = project_model(store, project, pool)
    top = int(settings.get("top", 5))
    min_score = float(settings.get("min_score", 0.0))
    found = candidates_from(
        rank_pool(pool, model),
        store,
        source,
        target,
        property_rules=rules.properties,
        chapter_rules=rules.chapters,
        top_k=top,
        min_score=min_score,
    )
    kept = {key: value for key, value in settings.items() if key != "review"}
    save_candidates(
        store,
        project.name,
        source,
        target,
        found,
        rules=[str(path) for path in rule_paths],
        settings={**kept, "model": model.describe(), "decisions_learnt": decisions},
    )
    report = Retraining(
        project=project.name,
        decisions=decisions,
        candidates=len(found),
        sources=len({c.source_code for c in found}),
        model=model.describe(),
    )
    return report, found
