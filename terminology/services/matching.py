"""Matching: ranked candidates between two stored versions, saved as a mapping project.

The command line (``concordance match``), the Python API (``Concordance.match``) and the
demo (``review-demo``) all call :func:`match_and_save`, so a project always records the
rules, memory and settings that ``match --retrain`` replays; retraining
(:func:`retrain_project`) is the same call with the recorded ones and a project model.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TextIO

import polars as pl

from terminology.backends import Backends
from terminology.matching.engine import match
from terminology.matching.learning import due, model_from_decisions
from terminology.matching.memory import MappingMemory, load_memory
from terminology.matching.ranker import RankingModel
from terminology.matching.rules import load_rules
from terminology.models import Candidate, CodeSystem
from terminology.records import Change, MappingProject, Project, ProjectNotFoundError, RowQuery
from terminology.review.context import Placement, placements
from terminology.review.workflow import Status, flag_changed_targets
from terminology.services.code_systems import changed_codes


@dataclass(frozen=True)
class Matched:
    """What a match found, and the project it was saved as (None when not saved)."""

    candidates: list[Candidate]
    project: MappingProject | None
    model: str | None = None
    """The project model that ranked them, when one was fitted (``learn_from``)."""
    decisions_learnt: int = 0


def match_and_save(
    store: Backends,
    source: CodeSystem,
    target: CodeSystem,
    *,
    rules: Sequence[Path | str] = (),
    memory: Sequence[Path | str] = (),
    top_k: int = 5,
    min_score: float = 0.0,
    project: str | None = None,
    learn_from: Project | None = None,
    progress: Callable[[int], None] = lambda _: None,
) -> Matched:
    """Candidates from ``source`` to ``target`` with the rule files and mapping-memory
    files given; saved under ``project`` (matching again under a name replaces its
    candidates, never its curators' decisions) when one is named. With ``learn_from``,
    they are ranked by a model fitted on that project's accepted decisions."""
    rule_set = load_rules([Path(path) for path in rules])
    remembered = sum((load_memory(Path(path)) for path in memory), MappingMemory())
    learnt: dict[str, Any] = {}
    accepted = store.rows.accepted_targets(learn_from) if learn_from is not None else {}

    def project_ranking(pool: pl.DataFrame) -> RankingModel:
        model = model_from_decisions(pool, accepted)
        learnt.update(model=model.describe(), decisions_learnt=len(accepted))
        return model

    found = match(
        store,
        source,
        target,
        **rule_set.engine_options(),
        memory=remembered,
        model=project_ranking if learn_from is not None else None,
        decided={code: [t.code for t in targets] for code, targets in accepted.items() if targets} or None,
        top_k=top_k,
        min_score=min_score,
        progress=progress,
    )
    if project is None:
        return Matched(found, None)
    saved = store.projects.save_candidates(
        project,
        source,
        target,
        found,
        rules=[str(path) for path in rules],
        settings={"top": top_k, "min_score": min_score, "memory": [str(path) for path in memory], **learnt},
        flags=flags_for_new_target(store, project, target),
        placed=source_placements(store, source),
        frequencies=source_frequencies(store, source),
    )
    store.refresh_statistics()  # tens of thousands of new rows and candidates: let the planner know
    return Matched(found, saved, learnt.get("model"), learnt.get("decisions_learnt", 0))


def source_placements(store: Backends, source: CodeSystem) -> dict[str, Placement]:
    """Each source concept's chapter and ancestors, for the queue's subtree filters."""
    links = store.parents_frame(source)
    parents: dict[str, list[str]] = {}
    for child, parent in zip(links["code"].to_list(), links["parent"].to_list(), strict=True):
        parents.setdefault(child, []).append(parent)
    codes = store.labels_frame(source)["code"].unique().to_list()
    return placements(parents, codes)


FREQUENCY_PROPERTIES = ("frequency", "frequence", "count", "occurrences")
"""Source properties read as how often a code is used (a local list's usage column)."""


def source_frequencies(store: Backends, source: CodeSystem) -> dict[str, float]:
    """How often each source code is used, from the first usage property the system has
    (Usagi orders its queue by it); empty when it has none."""
    for name in FREQUENCY_PROPERTIES:
        frame = store.property_frame(source, name)
        if frame.height:
            break
    else:
        return {}
    usage: dict[str, float] = {}
    for code, value in zip(frame["code"].to_list(), frame["value"].to_list(), strict=True):
        try:
            usage[code] = float(value)
        except (TypeError, ValueError):
            continue
    return usage


@dataclass(frozen=True)
class Retraining:
    """What retraining a project did."""

    project: str
    decisions: int
    """Accepted rows the model learnt from."""
    candidates: int
    sources: int
    model: str


def retrain_project(
    store: Backends, name: str | int, *, progress: Callable[[int], None] = lambda _: None
) -> tuple[Retraining, list[Candidate]]:
    """Match the project again, with the versions, rule files, memory and settings its last
    match recorded, ranked by a model fitted on its accepted decisions; the new candidates
    replace the old (the rows and their decisions stay)."""
    project = store.projects.get_project(name)
    recorded = store.projects.recorded_match(project.id)
    matched = match_and_save(
        store,
        store.code_system_by_id(project.source_system_id),
        store.code_system_by_id(project.target_system_id),
        rules=recorded.rules,
        memory=[str(path) for path in recorded.settings.get("memory", [])],
        top_k=int(recorded.settings.get("top", 5)),
        min_score=float(recorded.settings.get("min_score", 0.0)),
        project=project.name,
        learn_from=project,
        progress=progress,
    )
    found = matched.candidates
    report = Retraining(
        project=project.name,
        decisions=matched.decisions_learnt,
        candidates=len(found),
        sources=len({c.source_code for c in found}),
        model=matched.model or "",
    )
    return report, found


def changed_targets(store: Backends, project: str, target: CodeSystem) -> dict[str, str]:
    """Why each target code of the project's current target version needs a second look in
    ``target`` (code → reason): empty for a new project or the same target version."""
    try:
        previous = store.projects.get_project(project).target_system_id
    except ProjectNotFoundError:
        return {}
    if previous == target.id:
        return {}
    return changed_codes(store, store.code_system_by_id(previous), target)


MATCHER = "concordance"
"""Who the audit trail names for what matching does by itself (flag a row)."""


def flags_for_new_target(store: Backends, project: str, target: CodeSystem) -> list[Change]:
    """The decided rows to flag for a second look when the project moves to a new target
    version in which one of their targets changed (inactive, gone, renamed): asked of the
    review rules, row by row; status and decision stay, the curator decides again."""
    reasons = changed_targets(store, project, target)
    if not reasons:
        return []
    found = store.projects.get_project(project)
    decided = tuple(status for status in Status if status != Status.UNMAPPED)
    rows, _ = store.rows.list_rows(found, RowQuery(status=decided, limit=10**9), count=False)
    now = datetime.now(UTC)
    flags = []
    for row, _ in rows:
        after = flag_changed_targets(row, reasons, by=MATCHER, now=now)
        if after is not None:
            flags.append(Change(row, after, "flag", after.flag_reason))
    return flags


def retrain_due(store: Backends, project: Project, every: int) -> bool:
    """Whether ``every`` more rows were accepted since the project's model last learnt
    (``CONCORDANCE_RETRAIN_EVERY``; 0, the default, reads nothing)."""
    if every <= 0:
        return False
    learnt = int(store.projects.recorded_match(project.id).settings.get("decisions_learnt", 0))
    return due(store.rows.status_counts(project).get("accepted", 0), learnt, every)


def write_candidates_sssom(
    store: Backends,
    candidates: Sequence[Candidate],
    source: CodeSystem,
    target: CodeSystem,
    out: TextIO,
    *,
    mapping_set_id: str,
) -> int:
    """Candidates as an SSSOM mapping set whose labels are the concepts' displays (one read
    per side); the labels that matched go to the comment. The CLI's ``match --out`` and
    ``match --retrain --out`` both write through here."""
    from terminology.exporters.sssom import write_sssom

    return write_sssom(
        candidates,
        source,
        target,
        out,
        mapping_set_id=mapping_set_id,
        source_displays=store.displays(source, {c.source_code for c in candidates}),
        target_displays=store.displays(target, {c.target_code for c in candidates}),
    )
