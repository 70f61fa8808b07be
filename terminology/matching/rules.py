"""All the rule files a match uses, read by their ``kind``."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from terminology.matching.chapter_rules import ChapterRule, load_chapter_rule
from terminology.matching.code_rules import CodeRule, load_code_rules
from terminology.matching.label_rewrites import LabelRewrite, load_label_rewrites
from terminology.matching.property_rules import PropertyRule, load_property_rules
from terminology.matching.rule_files import RuleFileError

KINDS = ("code-rules", "property-rules", "label-rewrites", "chapter-correspondence")


@dataclass(frozen=True)
class RuleSet:
    code: list[CodeRule] = field(default_factory=list)
    properties: list[PropertyRule] = field(default_factory=list)
    rewrites: list[LabelRewrite] = field(default_factory=list)
    chapters: list[ChapterRule] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.code) + len(self.properties) + len(self.rewrites) + len(self.chapters)

    def engine_options(self) -> dict[str, Any]:
        """The keyword arguments :func:`terminology.matching.engine.match` takes for these rules."""
        return {
            "code_rules": self.code,
            "property_rules": self.properties,
            "label_rewrites": self.rewrites,
            "chapter_rules": self.chapters,
        }


def load_rules(paths: list[Path]) -> RuleSet:
    """Read rule files of any kind; an unknown kind is an error naming the file."""
    code: list[Path] = []
    properties: list[PropertyRule] = []
    rewrites: list[LabelRewrite] = []
    chapters: list[ChapterRule] = []
    for path in paths:
        try:
            kind = (yaml.safe_load(path.read_text(encoding="utf-8")) or {}).get("kind")
        except (OSError, yaml.YAMLError, AttributeError) as error:
            raise RuleFileError(path, f"not a rule file: {error}") from error
        if kind == "code-rules":
            code.append(path)
        elif kind == "property-rules":
            properties.extend(load_property_rules(path))
        elif kind == "label-rewrites":
            rewrites.extend(load_label_rewrites(path))
        elif kind == "chapter-correspondence":
            chapters.append(load_chapter_rule(path))
        else:
            raise RuleFileError(
                path, f"kind must be one of {', '.join(KINDS)}, not {kind!r}", line=1, field="kind"
            )
    return RuleSet(code=load_code_rules(code), properties=properties, rewrites=rewrites, chapters=chapters)
