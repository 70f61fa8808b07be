"""Label rewrites: regular expressions a terminologist writes once for a pair of vocabularies.

Vocabularies phrase the same idea their own way (CIM-11 ``..., non précisé(e)``
where CIM-10 says ``..., sans précision``; a laboratory writes ``Glycémie à
jeun`` where LOINC says ``Glucose [Masse/Volume] ... à jeun``). A rewrite
changes the label that is *compared*, never the label a curator sees, and the
candidates it helps record its id. Files have ``kind: label-rewrites``.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from terminology.matching.rule_files import read_rule_file


class LabelRewrite(BaseModel):
    """``pattern`` (Python regular expression) is replaced by ``replace`` (``\\1`` for groups)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9-]*$")
    pattern: str = Field(min_length=1)
    replace: str = ""
    side: Literal["source", "target", "both"] = "both"
    ignore_case: bool = True
    description: str = ""

    @field_validator("pattern")
    @classmethod
    def _compiles(cls, pattern: str) -> str:
        try:
            re.compile(pattern)
        except re.error as error:
            raise ValueError(f"not a regular expression: {error}") from error
        return pattern

    def compiled(self) -> re.Pattern[str]:
        return re.compile(self.pattern, re.IGNORECASE if self.ignore_case else 0)

    def applies_to(self, side: Literal["source", "target"]) -> bool:
        return self.side in (side, "both")


class LabelRewriteFile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    kind: Literal["label-rewrites"]
    description: str = ""
    rules: list[LabelRewrite]


def load_label_rewrites(path: Path) -> list[LabelRewrite]:
    return read_rule_file(path, LabelRewriteFile).rules


def rewrite_labels(
    labels: list[str], rewrites: list[LabelRewrite], side: Literal["source", "target"]
) -> tuple[list[str], list[list[str]]]:
    """Each label after every rewrite of its side, in file order, and the ids that changed it.

    >>> rule = LabelRewrite(id="np", pattern=r",\\s*non précisée?$", replace=", sans précision")
    >>> rewrite_labels(["Choléra, non précisé", "Peste"], [rule], "source")
    (['Choléra, sans précision', 'Peste'], [['np'], []])
    """
    active = [(rule.id, rule.compiled(), rule.replace) for rule in rewrites if rule.applies_to(side)]
    rewritten: list[str] = []
    fired: list[list[str]] = []
    for label in labels:
        ids: list[str] = []
        for rule_id, pattern, replacement in active:
            changed = pattern.sub(replacement, label)
            if changed != label:
                ids.append(rule_id)
                label = changed
        rewritten.append(label)
        fired.append(ids)
    return rewritten, fired


def load_label_rewrite_files(paths: list[Path]) -> list[LabelRewrite]:
    """The rules of several files, in file order (the rule-kind registry's reader)."""
    return [rule for path in paths for rule in load_label_rewrites(path)]
