"""Code rules: transforms, and broken rule files reported with file:line."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from terminology.matching.code_rules import CodeRule, code_rule_candidates, load_code_rules
from terminology.matching.rule_files import RuleFileError


def pairs(rule: CodeRule, source: list[str], target: list[str]) -> set[tuple[str, str]]:
    found = code_rule_candidates([rule], pl.DataFrame({"code": source}), pl.DataFrame({"code": target}))
    return set(
        zip(found.get_column("source_code").to_list(), found.get_column("target_code").to_list(), strict=True)
    )


def test_transforms() -> None:
    assert pairs(CodeRule(id="same", transform="same"), ["A00.0", "B01"], ["A00.0", "B010"]) == {
        ("A00.0", "A00.0")
    }
    assert pairs(CodeRule(id="dots", transform="strip-dots"), ["E11.9", "E10"], ["E119", "E10", "E1.19"]) == {
        ("E11.9", "E119"),
        ("E11.9", "E1.19"),
        ("E10", "E10"),
    }
    assert pairs(CodeRule(id="pad", transform="zero-pad", width=4), ["42", "7"], ["0042", "0700"]) == {
        ("42", "0042")
    }
    rule = CodeRule(id="prefix", transform="prefix", prefixes={"C04.": "C05."})
    assert pairs(rule, ["C04.01.00", "L01"], ["C05.01.00", "L01"]) == {
        ("C04.01.00", "C05.01.00"),
        ("L01", "L01"),
    }


@pytest.mark.parametrize(
    ("text", "line", "message"),
    [
        ("kind: code-rules\nrules:\n  - id: a\n    transform: reverse\n", 4, "Input should be"),
        ("kind: code-rules\nrules:\n  - id: a\n    transform: zero-pad\n", 3, "needs a width"),
        ("kind: code-rules\nrules:\n  - id: Bad Id\n    transform: same\n", 3, "should match pattern"),
        (
            "kind: code-rules\nrules:\n  - id: a\n    transform: same\n  - id: a\n    transform: same\n",
            None,
            "used twice",
        ),
    ],
)
def test_broken_rule_files(tmp_path: Path, text: str, line: int | None, message: str) -> None:
    path = tmp_path / "rules.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(RuleFileError, match=message) as caught:
        load_code_rules([path])
    assert caught.value.line == line


def test_ignore_case() -> None:
    rule = CodeRule(id="any-case", transform="same", ignore_case=True)
    assert pairs(rule, ["old", "home"], ["OLD", "H"]) == {("old", "OLD")}
