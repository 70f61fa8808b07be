"""Matching: ranked candidates between two stored versions, saved as a mapping project.

The command line (``concordance match``), the Python API (``Concordance.match``) and the
demo (``review-demo``) all call :func:`match_and_save`, so a project always records the
rules, memory and settings that ``match --retrain`` replays.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from terminology.matching.engine import match
from terminology.matching.memory import MappingMemory, load_memory
from terminology.matching.rules import load_rules
from terminology.models import Candidate, CodeSystem
from terminology.storage.projects import MappingProject, save_candidates
from terminology.storage.store import SqlStore


@dataclass(frozen=True)
class Matched:
    """What a match found, and the project it was saved as (None when not saved)."""

    candidates: list[Candidate]
    project: MappingProject | None


def match_and_save(
    store: SqlStore,
    source: CodeSystem,
    target: CodeSystem,
    *,
    rules: Sequence[Path | str] = (),
    memory: Sequence[Path | str] = (),
    top_k: int = 5,
    min_score: float = 0.0,
    project: str | None = None,
    progress: Callable[[int], None] = lambda _: None,
) -> Matched:
    """Candidates from ``source`` to ``target`` with the rule files and mapping-memory
    files given; saved under ``project`` (matching again under a name replaces its
    candidates, never its curators' decisions) when one is named."""
    rule_set = load_rules([Path(path) for path in rules])
    remembered = sum((load_memory(Path(path)) for path in memory), MappingMemory())
    found = match(
        store,
        source,
        target,
        **rule_set.engine_options(),
        memory=remembered,
        top_k=top_k,
        min_score=min_score,
        progress=progress,
    )
    if project is None:
        return Matched(found, None)
    saved = save_candidates(
        store,
        project,
        source,
        target,
        found,
        rules=[str(path) for path in rules],
        settings={"top": top_k, "min_score": min_score, "memory": [str(path) for path in memory]},
    )
    return Matched(found, saved)
