"""Every YAML Concordance reads (SSSOM headers, rule files, vocabularies) goes through one
loader that refuses aliases.

YAML aliases let a few hundred bytes stand for billions of nodes ("nine levels of ten": an
SSSOM header that ran 55 s and ended in MemoryError). No file Concordance reads needs them,
so an alias is refused where it stands, before anything is expanded: a parse stays linear in
the text. PyYAML's ``SafeLoader`` is kept for everything else (no Python objects built).
"""

from __future__ import annotations

from typing import Any

import yaml


class AliasRefusedError(yaml.MarkedYAMLError):
    """A YAML alias (``*name``): refused, with the line it stands on."""


class NoAliasLoader(yaml.SafeLoader):
    """PyYAML's safe loader, refusing any alias when it composes the document."""

    def compose_node(self, parent: Any, index: Any) -> Any:
        if self.check_event(yaml.AliasEvent):
            event = self.peek_event()  # type: ignore[no-untyped-call]
            raise AliasRefusedError(
                None, None, f"YAML aliases (*{event.anchor}) are not accepted", event.start_mark
            )
        return super().compose_node(parent, index)


def load_yaml(text: str) -> Any:
    """``text`` as YAML data (safe types only; no alias).

    >>> load_yaml("a: [1, 2]")
    {'a': [1, 2]}
    >>> try:
    ...     load_yaml("a: &x [1]\\nb: *x")
    ... except AliasRefusedError as error:
    ...     print(error.problem, "at line", error.problem_mark.line + 1)
    YAML aliases (*x) are not accepted at line 2
    """
    return yaml.load(text, Loader=NoAliasLoader)


def compose_yaml(text: str) -> Any:
    """``text``'s node tree (for line numbers), with the same refusal."""
    return yaml.compose(text, Loader=NoAliasLoader)
