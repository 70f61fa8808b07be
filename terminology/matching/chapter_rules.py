"""Chapter correspondence: a classification's chapters only map to some chapters of another.

A CIM-11 infectious disease belongs in CIM-10 chapter I (or, where CIM-11
regrouped, in the organ chapter CIM-10 kept it in); matching it against the
whole of CIM-10 invites look-alike labels from unrelated chapters. A file of
``kind: chapter-correspondence`` lists, for each source chapter (the code of a
root of the source hierarchy), the target chapters its concepts may map to.
``restrict`` drops pairs that leave them; ``boost`` only raises pairs that
stay. Source chapters the file does not list are not constrained.

Rules fail open: a target whose chapter the file does not know (its root is none of the
chapters the file names — a concept cut from its chapter by a damaged import, or a
chapter added since) is never dropped. A correspondence narrows the search among
chapters it knows; it must not hide a right answer it cannot place.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import polars as pl
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from terminology.matching.frames import MatchingFrames, VersionFrames
from terminology.matching.rule_files import read_rule_file


class ChapterPair(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    source: str = Field(min_length=1)
    target: list[str] = Field(min_length=1)
    note: str = ""


class ChapterRule(BaseModel):
    """One correspondence table between the chapters of two hierarchies."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    kind: Literal["chapter-correspondence"]
    id: str = Field(pattern=r"^[a-z0-9][a-z0-9-]*$")
    description: str = ""
    effect: Literal["restrict", "boost"] = "restrict"
    boost: float = Field(default=0.0, ge=0.0, le=0.2)
    chapters: list[ChapterPair] = Field(min_length=1)

    @field_validator("chapters")
    @classmethod
    def _each_source_once(cls, chapters: list[ChapterPair]) -> list[ChapterPair]:
        sources = [pair.source for pair in chapters]
        repeated = sorted({code for code in sources if sources.count(code) > 1})
        if repeated:
            raise ValueError(f"source chapter listed twice: {', '.join(repeated)}")
        return chapters

    @model_validator(mode="after")
    def _boost_needs_amount(self) -> ChapterRule:
        if self.effect == "boost" and self.boost == 0:
            raise ValueError("a boost rule needs a boost amount (0 < boost <= 0.2)")
        return self

    def table(self) -> pl.DataFrame:
        return pl.DataFrame(
            [(pair.source, target) for pair in self.chapters for target in pair.target],
            schema={"source_root": pl.String, "allowed_root": pl.String},
            orient="row",
        )


def load_chapter_rule(path: Path) -> ChapterRule:
    return read_rule_file(path, ChapterRule)


def roots(version: VersionFrames) -> pl.DataFrame:
    """Every concept with the root(s) of the hierarchy above it (``code``, ``root``); a
    concept without parents is its own root."""
    links = version.parents
    codes = version.labels.select("code").unique()
    frontier = codes.join(links, on="code", how="left").select("code", pl.col("parent").alias("above"))
    for _ in range(64):  # deeper than any classification; cycles are refused at import
        climbed = frontier.join(links, left_on="above", right_on="code", how="left")
        if climbed.get_column("parent").null_count() == climbed.height:
            break
        frontier = climbed.select(
            "code", pl.when(pl.col("parent").is_null()).then("above").otherwise("parent").alias("above")
        ).unique()
    return frontier.select("code", pl.col("above").fill_null(pl.col("code")).alias("root")).unique()


def apply_chapter_rules(
    rules: list[ChapterRule], frames: MatchingFrames, pairs: pl.DataFrame
) -> pl.DataFrame:
    """Pairs after each chapter rule: dropped when they leave the allowed target chapters
    (``restrict``) or raised when they stay in them (``boost``)."""
    if not rules or pairs.is_empty():
        return pairs
    source_roots = roots(frames.source).rename({"code": "source_code", "root": "source_root"})
    target_roots = roots(frames.target).rename({"code": "target_code", "root": "target_root"})
    for rule in rules:
        leaves, stays = _judged(rule, pairs, source_roots, target_roots)
        if rule.effect == "restrict":
            pairs = pairs.filter(~leaves)
        else:
            pairs = pairs.with_columns(
                pl.when(stays).then((pl.col("score") + rule.boost).clip(upper_bound=1.0)).otherwise("score"),
                pl.when(stays)
                .then(pl.format("{}; rule {} +{}", "reason", pl.lit(rule.id), pl.lit(rule.boost)))
                .otherwise("reason"),
            )
    return pairs


def _judged(
    rule: ChapterRule, pairs: pl.DataFrame, source_roots: pl.DataFrame, target_roots: pl.DataFrame
) -> tuple[pl.Series, pl.Series]:
    """For each pair, in order: whether it leaves the chapters the rule allows its source
    (a source the rule speaks of, a target placed in a chapter the rule knows, not an
    allowed one) and whether it stays in them. A target whose chapter the rule does not
    know never leaves (fail open). One lazy query over the codes only: the pairs' other
    columns are never copied (a CIM-11 match has 1.6 million)."""
    table = rule.table().select("source_root", "allowed_root").unique()
    spoken = table.select("source_root").unique().with_columns(pl.lit(True).alias("constrained"))
    known = (
        table.select(pl.col("allowed_root").alias("target_root"))
        .unique()
        .with_columns(pl.lit(True).alias("placed"))
    )
    allowed = table.rename({"allowed_root": "target_root"}).with_columns(pl.lit(True).alias("allowed"))
    judged = (  # a concept under several chapters has a row for each: a pair is judged on all
        pairs.lazy()
        .select("source_code", "target_code")
        .with_row_index("pair")
        .join(source_roots.lazy(), on="source_code", how="left", maintain_order="left")
        .join(target_roots.lazy(), on="target_code", how="left", maintain_order="left")
        .join(spoken.lazy(), on="source_root", how="left", maintain_order="left")
        .join(known.lazy(), on="target_root", how="left", maintain_order="left")
        .join(allowed.lazy(), on=["source_root", "target_root"], how="left", maintain_order="left")
        .group_by("pair", maintain_order=True)
        .agg(
            pl.col("constrained").fill_null(False).any(),
            pl.col("placed").is_null().any().alias("unplaced"),
            pl.col("allowed").fill_null(False).any().alias("stays"),
        )
        .sort("pair")
        .select(
            (pl.col("constrained") & ~pl.col("stays") & ~pl.col("unplaced")).alias("leaves"),
            (pl.col("constrained") & pl.col("stays")).alias("stays"),
        )
        .collect()
    )
    return judged.get_column("leaves"), judged.get_column("stays")


def load_chapter_rules(paths: list[Path]) -> list[ChapterRule]:
    """One correspondence per file, in file order (the rule-kind registry's reader)."""
    return [load_chapter_rule(path) for path in paths]
