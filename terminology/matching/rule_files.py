"""Reading the YAML files of ``mapping_rules/`` with errors that point at a line.

Files are validated by pydantic models; a failure is reported as
``FILE:LINE: field 'x': reason`` with the line of the offending YAML node, so
a terminologist editing a rule file knows where to look.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from terminology.errors import SourceFileError
from terminology.yaml_text import compose_yaml, load_yaml

Model = TypeVar("Model", bound=BaseModel)


class RuleFileError(SourceFileError):
    """A file of ``mapping_rules/`` is not valid."""


def _node_at(node: yaml.Node, location: tuple[str | int, ...]) -> yaml.Node:
    """The YAML node a pydantic error location points to (as deep as it exists)."""
    for step in location:
        if isinstance(node, yaml.MappingNode):
            match = next((value for key, value in node.value if key.value == str(step)), None)
            if match is None:
                match = next((key for key, _ in node.value if key.value == str(step)), None)
        elif isinstance(node, yaml.SequenceNode) and isinstance(step, int) and step < len(node.value):
            match = node.value[step]
        else:
            match = None
        if match is None:
            break
        node = match
    return node


def read_rule_file(path: Path, model: type[Model]) -> Model:
    """Parse and validate one YAML file against ``model``."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise RuleFileError(path, f"unreadable: {error}") from error
    try:
        root = compose_yaml(text)
        data: Any = load_yaml(text)
    except yaml.MarkedYAMLError as error:
        line = error.problem_mark.line + 1 if error.problem_mark else None
        raise RuleFileError(path, f"invalid YAML: {error.problem}", line=line) from error
    if root is None:
        raise RuleFileError(path, "empty file", line=1)
    try:
        return model.model_validate(data)
    except ValidationError as error:
        first = error.errors()[0]
        location = tuple(first["loc"])
        node = _node_at(root, location)
        field = ".".join(str(part) for part in location) or None
        raise RuleFileError(path, first["msg"], line=node.start_mark.line + 1, field=field) from error
