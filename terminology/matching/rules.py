"""All the rule files a match uses, read by their ``kind`` through a registry.

Like the importers, a rule kind is one module and one line here: the function reading
its files (loaded on first use) and the :func:`terminology.matching.engine.match` keyword
its rules go to. Each registered kind passes the shared contract suite
(``tests/terminology/matching/test_rule_kinds.py``): its shipped files load, and a file
of that kind with an unknown field is refused at ``FILE:LINE``.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from importlib import import_module
from pathlib import Path
from typing import Any

import yaml

from terminology.matching.rule_files import RuleFileError
from terminology.yaml_text import load_yaml


@dataclass(frozen=True)
class RuleKind:
    loader: str
    """``module:function`` reading the files of this kind: ``list[Path] -> list[rule]``."""
    option: str
    """The keyword of :func:`terminology.matching.engine.match` the rules go to."""

    def load(self, paths: Sequence[Path]) -> list[Any]:
        module_name, function_name = self.loader.split(":")
        function: Callable[[list[Path]], list[Any]] = getattr(import_module(module_name), function_name)
        return function(list(paths))


RULE_KINDS: dict[str, RuleKind] = {
    "code-rules": RuleKind("terminology.matching.code_rules:load_code_rules", "code_rules"),
    "property-rules": RuleKind(
        "terminology.matching.property_rules:load_property_rule_files", "property_rules"
    ),
    "label-rewrites": RuleKind(
        "terminology.matching.label_rewrites:load_label_rewrite_files", "label_rewrites"
    ),
    "chapter-correspondence": RuleKind(
        "terminology.matching.chapter_rules:load_chapter_rules", "chapter_rules"
    ),
}


def register(kind: str, loader: str, option: str) -> None:
    """Register a rule kind (its reader given as ``"package.module:function"``)."""
    RULE_KINDS[kind] = RuleKind(loader, option)


@dataclass(frozen=True)
class RuleSet:
    """Rules by the engine keyword they go to."""

    by_option: dict[str, list[Any]] = field(default_factory=dict)

    @property
    def code(self) -> list[Any]:
        return self.by_option.get("code_rules", [])

    @property
    def properties(self) -> list[Any]:
        return self.by_option.get("property_rules", [])

    @property
    def rewrites(self) -> list[Any]:
        return self.by_option.get("label_rewrites", [])

    @property
    def chapters(self) -> list[Any]:
        return self.by_option.get("chapter_rules", [])

    def __len__(self) -> int:
        return sum(len(rules) for rules in self.by_option.values())

    def engine_options(self) -> dict[str, Any]:
        """The keyword arguments :func:`terminology.matching.engine.match` takes for these rules."""
        return {kind.option: self.by_option.get(kind.option, []) for kind in RULE_KINDS.values()}


def kind_of(path: Path) -> str:
    """A rule file's ``kind``; an unknown kind is an error naming the file."""
    try:
        document = load_yaml(path.read_text(encoding="utf-8")) or {}
    except yaml.MarkedYAMLError as error:
        line = error.problem_mark.line + 1 if error.problem_mark else None
        raise RuleFileError(path, f"not a rule file: {error.problem}", line=line) from error
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as error:
        raise RuleFileError(path, f"not a rule file: {error}") from error
    if not isinstance(document, dict):
        raise RuleFileError(
            path,
            f"not a rule file: a rule file is YAML with a 'kind' ({', '.join(sorted(RULE_KINDS))}), "
            f"this is {type(document).__name__} (a CSV of validated pairs goes to --memory)",
        )
    kind = document.get("kind")
    if kind not in RULE_KINDS:
        raise RuleFileError(
            path, f"kind must be one of {', '.join(RULE_KINDS)}, not {kind!r}", line=1, field="kind"
        )
    return str(kind)


def load_rules(paths: Sequence[Path]) -> RuleSet:
    """Read rule files of any kind, each kind's files in the order given."""
    by_kind: dict[str, list[Path]] = defaultdict(list)
    for path in paths:
        by_kind[kind_of(path)].append(path)
    return RuleSet(
        by_option={RULE_KINDS[kind].option: RULE_KINDS[kind].load(files) for kind, files in by_kind.items()}
    )
