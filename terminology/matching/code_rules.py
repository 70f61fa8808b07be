"""Code rules: candidates from the codes themselves (same code across editions, codes
written with or without dots, zero-padded, renamed prefixes).

A rule turns a source code and a target code into keys; equal keys make a
candidate. Rules live in ``mapping_rules/rules/*.yaml`` (``kind: code-rules``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import polars as pl
from pydantic import BaseModel, ConfigDict, Field, model_validator

from terminology.matching.rule_files import RuleFileError, read_rule_file

Equivalence = Literal["equivalent", "wider", "narrower", "relatedto"]


class CodeRule(BaseModel):
    """``transform``: ``same`` (codes equal), ``strip-dots`` (``E11.9`` = ``E119``),
    ``zero-pad`` (``42`` = ``0042`` at ``width``), ``prefix`` (``prefixes`` renames the
    start of source codes before comparing). ``ignore_case`` compares without case
    (HL7 v2 and v3 tables spell FHIR codes in capitals)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9-]*$")
    transform: Literal["same", "strip-dots", "zero-pad", "prefix"]
    equivalence: Equivalence = "equivalent"
    width: int | None = Field(default=None, ge=1, le=64)
    prefixes: dict[str, str] = Field(default_factory=dict)
    ignore_case: bool = False
    description: str = ""

    @model_validator(mode="after")
    def _needs_its_parameters(self) -> CodeRule:
        if self.transform == "zero-pad" and self.width is None:
            raise ValueError("a zero-pad rule needs a width")
        if self.transform == "prefix" and not self.prefixes:
            raise ValueError("a prefix rule needs prefixes (old prefix: new prefix)")
        return self

    def source_key(self, codes: pl.Expr) -> pl.Expr:
        if self.transform == "prefix":
            key = codes
            for old, new in self.prefixes.items():
                renamed = pl.lit(new) + key.str.slice(len(old))
                key = pl.when(key.str.starts_with(old)).then(renamed).otherwise(key)
            return self._cased(key)
        return self.target_key(codes)

    def target_key(self, codes: pl.Expr) -> pl.Expr:
        if self.transform == "strip-dots":
            return self._cased(codes.str.replace_all(".", "", literal=True))
        if self.transform == "zero-pad":
            return self._cased(codes.str.zfill(self.width or 0))
        return self._cased(codes)

    def _cased(self, key: pl.Expr) -> pl.Expr:
        return key.str.to_lowercase() if self.ignore_case else key


class CodeRuleFile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    kind: Literal["code-rules"]
    description: str = ""
    rules: list[CodeRule]


def load_code_rules(paths: list[Path]) -> list[CodeRule]:
    """Rules of several files, in file order; a repeated id is an error."""
    rules: list[CodeRule] = []
    for path in paths:
        rules.extend(read_rule_file(path, CodeRuleFile).rules)
    seen: set[str] = set()
    for rule in rules:
        if rule.id in seen:
            raise RuleFileError(paths[-1], f"rule id {rule.id!r} is used twice", field="id")
        seen.add(rule.id)
    return rules


def code_rule_candidates(rules: list[CodeRule], source: pl.DataFrame, target: pl.DataFrame) -> pl.DataFrame:
    """Pairs (``source_code``, ``target_code``, ``rule``, ``equivalence``) the rules find."""
    found = [
        source.select(pl.col("code").alias("source_code"), rule.source_key(pl.col("code")).alias("key"))
        .join(
            target.select(pl.col("code").alias("target_code"), rule.target_key(pl.col("code")).alias("key")),
            on="key",
        )
        .select(
            "source_code",
            "target_code",
            pl.lit(rule.id).alias("rule"),
            pl.lit(rule.equivalence).alias("equivalence"),
        )
        for rule in rules
    ]
    schema = {"source_code": pl.String, "target_code": pl.String, "rule": pl.String, "equivalence": pl.String}
    return pl.concat(found) if found else pl.DataFrame(schema=schema)
