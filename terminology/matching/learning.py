"""Learning from a project's decisions: the project's model is the default one fitted on
what curators accepted (:func:`terminology.services.matching.retrain_project` reads the
decisions and matches again with it, on the pool the project's last match recorded).

Positive examples are the targets of accepted rows; every other candidate of those rows
is a negative one. Rows already decided keep their decision; only candidates change.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import polars as pl

from terminology.matching.ranker import RankingModel, default_model, fit_project_model, label_pool
from terminology.review.context import decision_margin
from terminology.review.workflow import Target


def model_from_decisions(
    pool: pl.DataFrame, accepted: Mapping[str, Sequence[Target]], base: RankingModel | None = None
) -> RankingModel:
    """The ``base`` model (the shipped one by default) adjusted to the accepted decisions
    (source code → chosen targets), learning from the candidates of ``pool`` they rank."""
    gold = {
        code: ({t.code for t in targets}, targets[0].equivalence)
        for code, targets in accepted.items()
        if targets
    }
    decided = label_pool(pool, gold).sort("source_code", "target_code") if gold else pool.clear()
    if "validated" not in decided.columns:
        decided = decided.with_columns(pl.lit(0, dtype=pl.Int8).alias("validated"))
    return fit_project_model(base or default_model(), decided, name="project", decisions=len(gold))


def due(accepted: int, learnt: int, every: int) -> bool:
    """Whether ``every`` more rows were accepted since the model last learnt (``every`` ≤ 0:
    never by itself).

    >>> due(accepted=12, learnt=2, every=10), due(accepted=11, learnt=2, every=10), due(50, 0, 0)
    (True, False, False)
    """
    return every > 0 and accepted - learnt >= every


def informative_order(ranked: pl.DataFrame) -> list[str]:
    """Source codes, the most useful to decide next first, by the queue's own key
    (:func:`terminology.review.context.decision_margin`: the smallest gap between the best
    two probabilities first, rows with no plausible candidate last), so each decision
    settles a choice the model could not make alone. Ties go in a fixed order (a hash of the
    code), not the code's, so a block of look-alike codes is not decided all at once.

    ``ranked`` has ``source_code``, ``score`` and ``rank`` (1 for the best).

    >>> ranked = pl.DataFrame({"source_code": ["a", "a", "b", "b", "c"],
    ...     "score": [0.9, 0.1, 0.5, 0.45, 0.3], "rank": [1, 2, 1, 2, 1]})
    >>> informative_order(ranked)
    ['b', 'c', 'a']
    """
    best = ranked.filter(pl.col("rank") <= 2).group_by("source_code").agg(pl.col("score"))
    gaps = best.select(
        "source_code",
        pl.Series("gap", [decision_margin(scores) for scores in best.get_column("score").to_list()]),
    )
    return (
        gaps.with_columns(pl.col("source_code").hash(seed=7).alias("tie"))
        .sort("gap", "tie")
        .get_column("source_code")
        .to_list()
    )
