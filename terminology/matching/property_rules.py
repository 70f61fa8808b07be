"""Property rules: constraints and boosts from what both concepts say of themselves.

``require-equal`` drops a candidate whose source and target both carry the
property with different values (a place never maps to a medical reason);
``boost`` adds to the score of candidates that agree. Rules live in
``mapping_rules/rules/*.yaml`` with ``kind: property-rules``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import polars as pl
from pydantic import BaseModel, ConfigDict, Field, model_validator

from terminology.matching.frames import MatchingFrames
from terminology.matching.normalise import default_normaliser
from terminology.matching.rule_files import read_rule_file


class PropertyRule(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9-]*$")
    property: str = Field(min_length=1)
    target_property: str | None = None
    """The target's property name when it differs from the source's."""
    from_label: dict[str, list[str]] = Field(default_factory=dict)
    """Read the source's value from its label instead: a word of the label (compared
    normalised) gives the target values it agrees with, e.g. ``sang: [Bld]``."""
    values: dict[str, list[str]] = Field(default_factory=dict)
    """Translate the source's own value first (compared normalised), e.g. a local list's
    unit column ``mmol/L: [SCnc]`` against the LOINC PROPERTY axis."""
    effect: Literal["require-equal", "boost"]
    boost: float = Field(default=0.0, ge=0.0, le=0.2)
    description: str = ""

    @model_validator(mode="after")
    def _boost_needs_amount(self) -> PropertyRule:
        if self.effect == "boost" and self.boost == 0:
            raise ValueError("a boost rule needs a boost amount (0 < boost <= 0.2)")
        if self.from_label and self.values:
            raise ValueError("a rule reads the source's value from its label or translates it, not both")
        return self


class PropertyRuleFile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    kind: Literal["property-rules"]
    description: str = ""
    rules: list[PropertyRule]


def load_property_rules(path: Path) -> list[PropertyRule]:
    return read_rule_file(path, PropertyRuleFile).rules


def _label_values(rule: PropertyRule, labels: pl.Series) -> pl.DataFrame:
    """For each source label, the target values its first telling word agrees with."""
    normaliser = default_normaliser()
    phrases = {normaliser.normalise(word): values for word, values in rule.from_label.items()}
    table = dict(sorted(phrases.items(), key=lambda item: -len(item[0].split())))  # most specific first
    rows: list[tuple[str, str]] = []
    for label in labels.unique().drop_nulls().to_list():
        tokens = normaliser.normalise(label)
        padded = f" {tokens} "
        allowed = next((values for word, values in table.items() if f" {word} " in padded), None)
        if allowed is not None:
            rows.extend((label, value) for value in allowed)
    return pl.DataFrame(rows, schema={"source_label": pl.String, "allowed": pl.String}, orient="row")


def _accepted_values(rule: PropertyRule, frames: MatchingFrames, pairs: pl.DataFrame) -> pl.DataFrame:
    """The pairs with ``accepted``: the target values each source agrees with, read from its
    label (``from_label``), translated from its own property (``values``) or equal to it;
    null when the source says nothing (or says something the table does not know)."""
    if rule.from_label:
        told = (
            _label_values(rule, pairs.get_column("source_label"))
            .group_by("source_label")
            .agg(pl.col("allowed").alias("accepted"))
        )
        return pairs.join(told, on="source_label", how="left")
    own = frames.source.property(rule.property)
    if rule.values:
        normalise = default_normaliser().normalise
        table = {normalise(value): targets for value, targets in rule.values.items()}
        translated = [table.get(normalise(value)) for value in own.get_column("value").to_list()]
        own = own.with_columns(pl.Series("accepted", translated, dtype=pl.List(pl.String))).drop_nulls(
            "accepted"
        )
    else:
        own = own.with_columns(pl.concat_list("value").alias("accepted"))
    return pairs.join(own.select(source_code="code", accepted="accepted"), on="source_code", how="left")


def _enforce(rule: PropertyRule, frames: MatchingFrames, pairs: pl.DataFrame) -> pl.DataFrame:
    """Drop (``require-equal``) or raise (``boost``) the pairs whose target value is accepted."""
    targets = frames.target.property(rule.target_property or rule.property).rename(
        {"code": "target_code", "value": "target_value"}
    )
    values = pairs.join(targets, on="target_code", how="left")
    both = pl.col("accepted").is_not_null() & pl.col("target_value").is_not_null()
    agree = both & pl.col("accepted").list.contains(pl.col("target_value"))
    if rule.effect == "require-equal":
        return values.filter(~both | agree).drop("accepted", "target_value")
    return values.with_columns(
        pl.when(agree)
        .then((pl.col("score") + rule.boost).clip(upper_bound=1.0))
        .otherwise("score")
        .alias("score"),
        pl.when(agree)
        .then(pl.format("{}; rule {} +{}", "reason", pl.lit(rule.id), pl.lit(rule.boost)))
        .otherwise("reason")
        .alias("reason"),
    ).drop("accepted", "target_value")


def apply_property_rules(
    rules: list[PropertyRule], frames: MatchingFrames, pairs: pl.DataFrame
) -> pl.DataFrame:
    """Candidate pairs after constraints (dropped) and boosts (score raised, reason told)."""
    for rule in rules:
        pairs = _enforce(rule, frames, _accepted_values(rule, frames, pairs))
    return pairs


def load_property_rule_files(paths: list[Path]) -> list[PropertyRule]:
    """The rules of several files, in file order (the rule-kind registry's reader)."""
    return [rule for path in paths for rule in load_property_rules(path)]
