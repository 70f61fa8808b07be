"""The contract every registered rule kind keeps, checked for each by the same tests: the
files of that kind shipped in ``mapping_rules/`` load into rules for the engine keyword
it names, and a file of that kind with a field nobody knows is refused at FILE:LINE."""

from __future__ import annotations

import inspect
from pathlib import Path

import pytest

from terminology.matching.engine import match
from terminology.matching.rule_files import RuleFileError
from terminology.matching.rules import RULE_KINDS, kind_of, load_rules
from tests.conftest import ROOT

SHIPPED = sorted((ROOT / "mapping_rules" / "rules").glob("*.yaml"))


def shipped(kind: str) -> list[Path]:
    return [path for path in SHIPPED if kind_of(path) == kind]


@pytest.mark.parametrize("kind", list(RULE_KINDS))
def test_the_shipped_files_of_every_kind_load_for_the_engine(kind: str) -> None:
    files = shipped(kind)
    assert files, f"no shipped example of {kind} in mapping_rules/rules"
    option = RULE_KINDS[kind].option
    assert option in inspect.signature(match).parameters
    rules = load_rules(files)
    assert len(rules.by_option[option]) >= len(files) and len(rules) == len(rules.by_option[option])
    assert rules.engine_options()[option] == rules.by_option[option]


@pytest.mark.parametrize("kind", list(RULE_KINDS))
def test_an_unknown_field_is_refused_at_its_line(kind: str, tmp_path: Path) -> None:
    original = shipped(kind)[0]
    lines = original.read_text(encoding="utf-8").splitlines(keepends=True)
    at = next(number for number, line in enumerate(lines) if line.startswith("kind:"))
    broken = tmp_path / original.name
    broken.write_text("".join([*lines[: at + 1], "colour: blue\n", *lines[at + 1 :]]), encoding="utf-8")
    with pytest.raises(RuleFileError) as refused:
        load_rules([broken])
    assert refused.value.line == at + 2 and refused.value.path == str(broken), str(refused.value)


def test_a_file_of_no_known_kind_is_refused_naming_the_kinds(tmp_path: Path) -> None:
    path = tmp_path / "odd.yaml"
    path.write_text("kind: spelling-rules\n", encoding="utf-8")
    with pytest.raises(RuleFileError, match="kind must be one of code-rules, property-rules") as refused:
        load_rules([path])
    assert refused.value.line == 1
