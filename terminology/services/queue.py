"""The work queue as a curator reads it: a project's progress, a page of rows with their
filters and order, where a row sits in it, its neighbourhood in the source hierarchy, one
row as its viewer may see it, and targets picked by hand."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

from terminology.backends import Backends
from terminology.models import CodeSystem, Frozen
from terminology.records import Project, RowNotFoundError, RowQuery
from terminology.review.double import Answer, answer_visible
from terminology.review.workflow import (
    Actor,
    MappingRow,
    Role,
    Status,
    allowed_actions,
    may_undo,
)


class ChosenTarget(Frozen):
    """A chosen target with its score and reason computed for this very pair."""

    code: str
    display: str | None
    equivalence: str
    score: float | None
    reason: str


class RowView(Frozen):
    """A row as ``viewer`` may see it: its context, candidates, chosen targets, the
    answers they may read and the actions they may take now."""

    row: MappingRow
    source: dict[str, Any]
    candidates: tuple[dict[str, Any], ...]
    chosen: tuple[ChosenTarget, ...]
    allowed_actions: tuple[str, ...]
    answers: tuple[Answer, ...] = ()


def progress(store: Backends, project: Project) -> tuple[dict[str, int], float | None]:
    """Rows per status (and flagged), and the share of the source's usage that accepted
    rows cover (None when the source has no usage column)."""
    return store.rows.status_counts(project), frequency_covered(store, project)


def frequency_covered(store: Backends, project: Project) -> float | None:
    """Share of the source's usage (its frequency column, kept on each row when matched)
    carried by accepted rows; None when the source has no frequency column."""
    return store.rows.usage_covered(project)


class QueuePage(Frozen):
    """A page of a work queue, how many rows its filters keep, and their statuses."""

    rows: tuple[tuple[MappingRow, float | None], ...]
    total: int
    counts: dict[str, int]


def queue_page(store: Backends, project: Project, query: RowQuery) -> QueuePage:
    """One page of the queue ``query`` describes (filters, order, offset), with the counts
    of the whole filtered queue, so the page can show "N of M" and size its scroll bar."""
    page, _ = store.rows.list_rows(project, query, count=False)
    counts = store.rows.filtered_counts(project, query)
    wanted = {status.value for status in query.status} or set(counts)
    total = sum(number for status, number in counts.items() if status in wanted)
    return QueuePage(rows=tuple(page), total=total, counts=counts)


def queue_position(store: Backends, project: Project, query: RowQuery, source_code: str) -> int | None:
    """Where a row stands in a filtered, sorted queue (a deep link scrolls there)."""
    store.rows.get_row(project, source_code)  # an unknown row: 404, not "filtered out"
    return store.rows.row_position(project, query, source_code)


NEIGHBOURS = 200
"""Children and siblings shown around a concept at most (the rest are counted)."""


def neighbourhood(
    store: Backends, project: Project, side: Literal["source", "target"], code: str
) -> dict[str, Any]:
    """A concept of the project's source or target with its path to the root, its
    siblings and its children, each with its display: what browsing a hierarchy shows.
    Bounded: at most :data:`NEIGHBOURS` children and siblings, with their full counts."""
    system = store.code_system_by_id(
        project.source_system_id if side == "source" else project.target_system_id
    )
    concept = store.concept(system, code)
    if concept is None:
        raise RowNotFoundError(f"{code} is not a code of {system.reference}")
    path = [step["code"] for step in paths_to_root(store, system, {code: concept.parents})[code]]
    children = store.children(system, code)
    siblings = [c for c in (store.children(system, path[-1]) if path else []) if c != code]
    shown = path + children[:NEIGHBOURS] + siblings[:NEIGHBOURS]
    displays = store.displays(system, shown)

    def listed(codes: Sequence[str]) -> list[dict[str, Any]]:
        return [{"code": c, "display": displays.get(c)} for c in codes]

    return {
        "side": side,
        "system": system.reference,
        "code": concept.code,
        "display": concept.display,
        "path": listed(path),
        "children": listed(children[:NEIGHBOURS]),
        "children_total": len(children),
        "siblings": listed(siblings[:NEIGHBOURS]),
        "siblings_total": len(siblings),
    }


class Progress(Frozen):
    """How far a project is: overall, per curator, per chapter, and usage covered."""

    total: int
    decided: int
    """Rows accepted, or decided and waiting for review (draft, in review)."""
    accepted: int
    counts: dict[str, int]
    frequency_covered: float | None
    curators: tuple[dict[str, Any], ...]
    chapters: tuple[dict[str, Any], ...]


DECIDED = (Status.ACCEPTED, Status.IN_REVIEW, Status.DRAFT)


def progress_report(store: Backends, project: Project) -> Progress:
    """Progress as a project lead reads it: % decided, per curator (as author and as
    assignee), per chapter of the source hierarchy, and the share of usage covered."""
    counts = store.rows.status_counts(project)
    total = sum(counts[status.value] for status in Status)
    per_chapter = _grouped(store.rows.breakdown(project, "chapter"))
    labels = store.displays(
        store.code_system_by_id(project.source_system_id), [c for c in per_chapter if c is not None]
    )
    chapters = tuple(
        {"code": code, "display": labels.get(code) if code else None, **numbers}
        for code, numbers in sorted(per_chapter.items(), key=lambda item: (item[0] is None, item[0] or ""))
    )
    authored = _grouped(store.rows.breakdown(project, "author"))
    assigned = _grouped(store.rows.breakdown(project, "assignee"))
    names = sorted({name for name in [*authored, *assigned] if name and not name.startswith("matching:")})
    curators = tuple(
        {
            "name": name,
            "authored": authored.get(name, {}).get("total", 0),
            "accepted": authored.get(name, {}).get("accepted", 0),
            "assigned": assigned.get(name, {}).get("total", 0),
            "assigned_decided": assigned.get(name, {}).get("decided", 0),
        }
        for name in names
    )
    return Progress(
        total=total,
        decided=sum(counts[status.value] for status in DECIDED),
        accepted=counts[Status.ACCEPTED.value],
        counts=counts,
        frequency_covered=frequency_covered(store, project),
        curators=curators,
        chapters=chapters,
    )


def _grouped(found: Sequence[Any]) -> dict[Any, dict[str, int]]:
    """(value, status, rows) triples as value → total, decided, accepted."""
    grouped: dict[Any, dict[str, int]] = {}
    for value, status, number in found:
        numbers = grouped.setdefault(value, {"total": 0, "decided": 0, "accepted": 0})
        numbers["total"] += number
        if Status(status) in DECIDED:
            numbers["decided"] += number
        if status == Status.ACCEPTED.value:
            numbers["accepted"] += number
    return grouped


def row_view(store: Backends, project: Project, viewer: Actor, row: MappingRow) -> RowView:
    """What the review page shows of ``row`` to ``viewer`` (a fixed number of queries,
    however many candidates the row has)."""
    target_system = store.code_system_by_id(project.target_system_id)
    source_system = store.code_system_by_id(project.source_system_id)
    found = store.rows.row_candidates(project, row.source_code)
    contexts = concept_contexts(store, target_system, [candidate["target_code"] for candidate in found])
    candidates = tuple(
        {**candidate, "target_label": context["display"], "target_context": context}
        for candidate in found
        for context in [contexts[candidate["target_code"]]]
    )
    answers: tuple[Answer, ...] = ()
    if project.review == "double":
        answers = tuple(
            answer
            for answer in store.rows.answers_for(project, row.source_code)
            if answer_visible(row.status, viewer, answer.author)
        )
    actions = allowed_actions(row, viewer.role)
    if row.status == Status.CONFLICT and viewer.role in (Role.RECONCILER, Role.ADMIN):
        actions.append("reconcile")
    last = store.rows.last_event(project, row.source_code)
    if last is not None and last.before is not None and may_undo(last.action, last.actor, viewer):
        actions.append("undo")
    return RowView(
        row=row,
        source=concept_contexts(store, source_system, [row.source_code])[row.source_code],
        candidates=candidates,
        chosen=chosen_targets(store, target_system, row),
        allowed_actions=tuple(actions),
        answers=answers,
    )


def concept_contexts(store: Backends, system: CodeSystem, codes: Sequence[str]) -> dict[str, dict[str, Any]]:
    """Each concept with its parents, synonyms, properties and status, as the page shows
    it (a code the version lacks: its code and no display), read together."""
    concepts = store.concepts_by_code(system, codes)
    parents = store.displays(system, {parent for concept in concepts.values() for parent in concept.parents})
    contexts: dict[str, dict[str, Any]] = {}
    for code in codes:
        concept = concepts.get(code)
        if concept is None:
            contexts[code] = {"code": code, "display": None}
            continue
        contexts[code] = {
            "code": concept.code,
            "display": concept.display,
            "parents": [{"code": parent, "display": parents.get(parent)} for parent in concept.parents],
            "synonyms": [
                {"label": d.value, "language": d.language, "use": d.use}
                for d in concept.designations
                if d.value != concept.display
            ],
            "properties": concept.properties,
            "active": concept.active,
        }
    return contexts


def chosen_targets(store: Backends, target_system: CodeSystem, row: MappingRow) -> tuple[ChosenTarget, ...]:
    """Each chosen target scored for this very pair now, so no stale score is shown."""
    from terminology.matching.normalise import default_normaliser
    from terminology.matching.search import pair_similarity

    normalise = default_normaliser().normalise
    displays = store.displays(target_system, [target.code for target in row.targets])
    chosen = []
    for target in row.targets:
        display = displays.get(target.code)
        score = pair_similarity(normalise(row.source_label or ""), normalise(display)) if display else None
        reason = (
            f'labels "{row.source_label}" ~ "{display}" {score:.2f}'
            if score is not None
            else f"{target.code} is not in {target_system.reference}"
        )
        chosen.append(
            ChosenTarget(
                code=target.code, display=display, equivalence=target.equivalence, score=score, reason=reason
            )
        )
    return tuple(chosen)


def search_targets(store: Backends, project: Project, text: str, *, limit: int = 20) -> list[dict[str, Any]]:
    """Concepts of the project's target version whose code or label contains ``text``
    (accents and case folded), each with its path to the root, to pick a target by hand."""
    system = store.code_system_by_id(project.target_system_id)
    found = store.concepts(system, search=text, limit=limit, offset=0)
    paths = paths_to_root(store, system, {concept.code: concept.parents for concept in found})
    return [
        {
            "code": concept.code,
            "display": concept.display,
            "active": concept.active,
            "path": paths[concept.code],
        }
        for concept in found
    ]


def paths_to_root(
    store: Backends, system: CodeSystem, parents: dict[str, Sequence[str]], *, deepest: int = 32
) -> dict[str, list[dict[str, Any]]]:
    """Each concept's first-parent path, root first, with displays: one read per level for
    all of them together, however many concepts there are."""
    paths: dict[str, list[str]] = {code: [] for code in parents}
    ends = {code: next(iter(up), None) for code, up in parents.items()}
    for _ in range(deepest):
        wanted = {end for end in ends.values() if end is not None}
        if not wanted:
            break
        concepts = store.concepts_by_code(system, wanted)
        for code, end in list(ends.items()):
            if end is None or end in paths[code]:
                ends[code] = None
                continue
            paths[code].append(end)
            found = concepts.get(end)
            ends[code] = found.parents[0] if found and found.parents else None
    displays = store.displays(system, {c for path in paths.values() for c in path})
    return {
        code: [{"code": c, "display": displays.get(c)} for c in reversed(path)]
        for code, path in paths.items()
    }


def find_row(store: Backends, project: Project, source_code: str) -> MappingRow:
    """The project's row for ``source_code`` (:class:`~terminology.records.RowNotFoundError`
    when the project has none)."""
    return store.rows.get_row(project, source_code)


def every_row(store: Backends, project: Project) -> list[tuple[MappingRow, float | None]]:
    """Every row of the project in code order, with its best candidate's score: what an
    analyst's notebook reads whole."""
    page, _ = store.rows.list_rows(project, RowQuery(limit=10**9), count=False)
    return page
