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

from terminology.matching.rule_files import read_rule_file
from terminology.models import CodeSystem
from terminology.storage.store import SqlStore


class PropertyRule(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9-]*$")
    property: str = Field(min_length=1)
    target_property: str | None = None
    """The target's property name when it differs from the source's."""
    effect: Literal["require-equal", "boost"]
    boost: float = Field(default=0.0, ge=0.0, le=0.2)
    description: str = ""

    @model_validator(mode="after")
    def _boost_needs_amount(self) -> PropertyRule:
        if self.effect == "boost" and self.boost == 0:
            raise ValueError("a boost rule needs a boost amount (0 < boost <= 0.2)")
        return self


class PropertyRuleFile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    kind: Literal["property-rules"]
    description: str = ""
    rules: list[PropertyRule]


def load_property_rules(path: Path) -> list[PropertyRule]:
    return read_rule_file(path, PropertyRuleFile).rules


def apply_property_rules(
    rules: list[PropertyRule], store: SqlStore, source: CodeSystem, target: CodeSystem, pairs: pl.DataFrame
) -> pl.DataFrame:
    """Candidate pairs after constraints (dropped) and boosts (score raised, reason told)."""
    for rule in rules:
        values = pairs.join(
            store.property_frame(source, rule.property).rename(
                {"code": "source_code", "value": "source_value"}
            ),
            on="source_code",
            how="left",
        ).join(
            store.property_frame(target, rule.target_property or rule.property).rename(
                {"code": "target_code", "value": "target_value"}
            ),
            on="target_code",
            how="left",
        )
        both = pl.col("source_value").is_not_null() & pl.col("target_value").is_not_null()
        agree = both & (pl.col("source_value") == pl.col("target_value"))
        if rule.effect == "require-equal":
            pairs = values.filter(~both | agree).drop("source_value", "target_value")
        else:
            pairs = values.with_columns(
                pl.when(agree)
                .then((pl.col("score") + rule.boost).clip(upper_bound=1.0))
                .otherwise("score")
                .alias("score"),
                pl.when(agree)
                .then(pl.format("{}; rule {} +{}", "reason", pl.lit(rule.id), pl.lit(rule.boost)))
                .otherwise("reason")
                .alias("reason"),
            ).drop("source_value", "target_value")
    return pairs
