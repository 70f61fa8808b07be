"""The shape of a code system's hierarchy, as matching reads it: ancestors with their
distance, depth and number of children of every concept.

A curator upgrading a classification often maps a specific source concept to a
*broader* target (a category, a block) because the target has no concept as
specific. Finding those targets means climbing from the look-alike leaf the
lexical search found; ranking them well means knowing how far up they are.
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

MAX_DEPTH = 64
"""Deeper than any classification; cycles are refused at import, so the climb ends."""


def ancestor_closure(parents: pl.DataFrame) -> pl.DataFrame:
    """Every (``code``, ``ancestor``, ``levels``) with ``levels`` ≥ 1 the shortest number
    of links up; a concept with several parents reaches each ancestor once.

    >>> links = pl.DataFrame({"code": ["A00.0", "A00", "A00.9"], "parent": ["A00", "A00-A09", "A00"]})
    >>> ancestor_closure(links).filter(pl.col("code") == "A00.0").sort("levels").rows()
    [('A00.0', 'A00', 1), ('A00.0', 'A00-A09', 2)]
    """
    links = parents.select("code", pl.col("parent").alias("ancestor")).unique()
    step = links.with_columns(pl.lit(1, dtype=pl.Int32).alias("levels"))
    found = [step]
    frontier = step
    for _ in range(MAX_DEPTH):
        frontier = (
            frontier.join(links.rename({"code": "ancestor", "ancestor": "above"}), on="ancestor")
            .select("code", pl.col("above").alias("ancestor"), (pl.col("levels") + 1).alias("levels"))
            .unique(["code", "ancestor"])
        )
        if frontier.is_empty():
            break
        found.append(frontier)
    schema = {"code": pl.String, "ancestor": pl.String, "levels": pl.Int32}
    closure = pl.concat(found).cast(schema) if found else pl.DataFrame(schema=schema)  # type: ignore[arg-type]
    return closure.sort("levels").unique(["code", "ancestor"], keep="first")


@dataclass(frozen=True)
class Hierarchy:
    """A code system's hierarchy as frames matching joins against."""

    parents: pl.DataFrame
    """``code``, ``parent``: one row per link."""
    ancestors: pl.DataFrame
    """``code``, ``ancestor``, ``levels``: the transitive closure."""
    shape: pl.DataFrame
    """``code``, ``depth`` (0 for a root), ``children``: one row per concept."""

    @classmethod
    def of(cls, codes: pl.Series, parents: pl.DataFrame) -> Hierarchy:
        """The hierarchy of ``codes`` given their ``parents`` links.

        >>> h = Hierarchy.of(pl.Series(["I", "A00", "A00.0"]),
        ...                  pl.DataFrame({"code": ["A00", "A00.0"], "parent": ["I", "A00"]}))
        >>> h.shape.sort("code").rows()
        [('A00', 1, 1), ('A00.0', 2, 0), ('I', 0, 1)]
        """
        parents = parents.select("code", "parent").unique()
        ancestors = ancestor_closure(parents)
        depth = ancestors.group_by("code").agg(pl.col("levels").max().alias("depth"))
        children = parents.group_by("parent").len().select(code="parent", children="len")
        shape = (
            pl.DataFrame({"code": codes.unique()})
            .join(depth, on="code", how="left")
            .join(children, on="code", how="left")
            .select(
                "code",
                pl.col("depth").fill_null(0).cast(pl.Int32),
                pl.col("children").fill_null(0).cast(pl.Int32),
            )
        )
        return cls(parents=parents, ancestors=ancestors, shape=shape)
