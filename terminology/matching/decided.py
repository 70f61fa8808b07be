"""Decisions widen the pool: where a curator mapped a concept, its neighbours probably go near.

A classification is mapped chapter by chapter, and neighbours follow each other: when a
curator maps S to T, S's children usually go to T or one of T's children, and S's siblings
to T's siblings or T's parent. Those *structural* candidates join the pool as a generator of
their own (:attr:`~terminology.models.MatchMethod.DECIDED_NEIGHBOUR`), and every pair of the
pool is told how it stands against its decided neighbours' targets, so the ranker can learn
how far to trust them:

* ``decided_parent`` — 0 when the target *is* the target of the source's decided parent,
  1 when it is one of that target's children (else missing);
* ``decided_sibling`` — 0 when the target is a decided sibling's target, 1 when it is a
  sibling of it, -1 when it is its parent (else missing); the share of decided siblings
  that agree is ``decided_support``.

Pure functions of the two hierarchies and the decisions (source code → chosen targets).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import polars as pl

from terminology.matching.hierarchy import Hierarchy

COLUMNS = {"source_code": pl.String, "target_code": pl.String}
SIBLINGS_AT_MOST = 60
"""Sibling decisions are read only under source parents with at most this many children."""


def _decisions(decided: Mapping[str, Sequence[str]]) -> pl.DataFrame:
    rows = [(source, target) for source, targets in decided.items() for target in targets]
    return pl.DataFrame(rows, schema={"decided": pl.String, "decided_target": pl.String}, orient="row")


def _children(target: Hierarchy) -> pl.DataFrame:
    return target.parents.select(pl.col("parent").alias("of"), pl.col("code").alias("child"))


def from_decided_parent(
    source: Hierarchy, target: Hierarchy, decided: Mapping[str, Sequence[str]]
) -> pl.DataFrame:
    """(``source_code``, ``target_code``, ``decided_parent``) for every undecided source whose
    parent is decided: the parent's target (0) and that target's children (1).

    >>> src = Hierarchy.of(pl.Series(["A", "A1", "A2"]),
    ...                    pl.DataFrame({"code": ["A1", "A2"], "parent": ["A", "A"]}))
    >>> tgt = Hierarchy.of(pl.Series(["T", "T1"]), pl.DataFrame({"code": ["T1"], "parent": ["T"]}))
    >>> from_decided_parent(src, tgt, {"A": ["T"]}).sort("source_code", "target_code").rows()
    [('A1', 'T', 0), ('A1', 'T1', 1), ('A2', 'T', 0), ('A2', 'T1', 1)]
    """
    decisions = _decisions(decided)
    if decisions.is_empty():
        return pl.DataFrame(schema={**COLUMNS, "decided_parent": pl.Int32})
    under = (
        source.parents.join(decisions, left_on="parent", right_on="decided")
        .filter(~pl.col("code").is_in(list(decided)))
        .select(pl.col("code").alias("source_code"), "decided_target")
    )
    same = under.select(
        "source_code", pl.col("decided_target").alias("target_code"), pl.lit(0).alias("level")
    )
    below = under.join(_children(target), left_on="decided_target", right_on="of").select(
        "source_code", pl.col("child").alias("target_code"), pl.lit(1).alias("level")
    )
    return (
        pl.concat([same, below])
        .group_by("source_code", "target_code")
        .agg(pl.col("level").min().cast(pl.Int32).alias("decided_parent"))
    )


def from_decided_siblings(
    source: Hierarchy, target: Hierarchy, decided: Mapping[str, Sequence[str]]
) -> pl.DataFrame:
    """(``source_code``, ``target_code``, ``decided_sibling``, ``decided_support``) for every
    undecided source with decided siblings: their targets (0), those targets' siblings (1)
    and parents (-1); ``decided_support`` is the share of its decided siblings that point
    there.

    >>> src = Hierarchy.of(pl.Series(["A", "A1", "A2"]),
    ...                    pl.DataFrame({"code": ["A1", "A2"], "parent": ["A", "A"]}))
    >>> tgt = Hierarchy.of(pl.Series(["T", "T1", "T2"]),
    ...                    pl.DataFrame({"code": ["T1", "T2"], "parent": ["T", "T"]}))
    >>> from_decided_siblings(src, tgt, {"A1": ["T1"]}).sort("target_code").rows()
    [('A2', 'T', -1, 1.0), ('A2', 'T1', 0, 1.0), ('A2', 'T2', 1, 1.0)]
    """
    decisions = _decisions(decided)
    if decisions.is_empty():
        return pl.DataFrame(schema={**COLUMNS, "decided_sibling": pl.Int32, "decided_support": pl.Float64})
    small = source.shape.filter(pl.col("children").is_between(2, SIBLINGS_AT_MOST)).select(
        pl.col("code").alias("parent")
    )
    links = source.parents.join(small, on="parent")
    pairs = (
        links.join(links.select("parent", pl.col("code").alias("sibling")), on="parent")
        .filter((pl.col("code") != pl.col("sibling")) & ~pl.col("code").is_in(list(decided)))
        .join(decisions, left_on="sibling", right_on="decided")
        .select(pl.col("code").alias("source_code"), "sibling", "decided_target")
    )
    decided_siblings = pairs.group_by("source_code").agg(pl.col("sibling").n_unique().alias("decided_count"))
    up = target.parents.select(pl.col("code").alias("decided_target"), pl.col("parent").alias("target_code"))
    same_parent = target.parents.join(
        target.parents.select("parent", pl.col("code").alias("other")), on="parent"
    ).filter(pl.col("code") != pl.col("other"))
    beside = same_parent.select(pl.col("code").alias("decided_target"), pl.col("other").alias("target_code"))
    found = pl.concat(
        [
            pairs.select(
                "source_code",
                "sibling",
                pl.col("decided_target").alias("target_code"),
                pl.lit(0).alias("rel"),
            ),
            pairs.join(beside, on="decided_target").select(
                "source_code", "sibling", "target_code", pl.lit(1).alias("rel")
            ),
            pairs.join(up, on="decided_target").select(
                "source_code", "sibling", "target_code", pl.lit(-1).alias("rel")
            ),
        ]
    )
    return (
        found.group_by("source_code", "target_code")
        .agg(
            pl.col("rel").sort_by(pl.col("rel").abs()).first().cast(pl.Int32).alias("decided_sibling"),
            pl.col("sibling").n_unique().alias("agreeing"),
        )
        .join(decided_siblings, on="source_code")
        .select(
            "source_code",
            "target_code",
            "decided_sibling",
            (pl.col("agreeing") / pl.col("decided_count")).cast(pl.Float64).alias("decided_support"),
        )
    )
