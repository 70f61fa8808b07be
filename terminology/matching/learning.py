"""Learning from a project's decisions: the project's model is the default one fitted on
what curators accepted (:func:`terminology.services.matching.retrain_project` matches
again with it, on the pool the project's last match recorded).

Positive examples are the targets of accepted rows; every other candidate of those rows
is a negative one. Rows already decided keep their decision; only candidates change.
"""

from __future__ import annotations

import polars as pl

from terminology.matching.ranker import RankingModel, default_model, fit_project_model, label_pool
from terminology.storage import curation, projects
from terminology.storage.store import SqlStore


def project_model(
    store: SqlStore, project: projects.Project, pool: pl.DataFrame, base: RankingModel | None = None
) -> tuple[RankingModel, int]:
    """The default model adjusted to the project's accepted decisions, and how many there were."""
    accepted = curation.accepted_targets(store, project)
    gold = {code: ({t.code for t in targets}, targets[0].equivalence) for code, targets in accepted.items()}
    decided = label_pool(pool, gold).sort("source_code", "target_code") if gold else pool.clear()
    if "validated" not in decided.columns:
        decided = decided.with_columns(pl.lit(0, dtype=pl.Int8).alias("validated"))
    model = fit_project_model(base or default_model(), decided, name="project", decisions=len(gold))
    return model, len(gold)


def retrain_due(store: SqlStore, project: projects.Project, every: int) -> bool:
    """Whether ``every`` more rows were accepted since the project's model last learnt."""
    if every <= 0:
        return False
    with store.engine.connect() as connection:
        settings = connection.execute(
            projects.projects.select()
            .with_only_columns(projects.projects.c.settings)
            .where(projects.projects.c.id == project.id)
        ).scalar()
    learnt = int((settings or {}).get("decisions_learnt", 0))
    return curation.status_counts(store, project).get("accepted", 0) - learnt >= every
