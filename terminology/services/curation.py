"""Curation: the work queue, decisions (single or blind double review), bulk decisions,
reconciliation, the audit trail and the exports of a project's decisions.

Every rule is a pure function of :mod:`terminology.review` (who may do what, from which
status, four eyes, blind answers); this module reads the rows, asks those rules for the
rows as they become, and hands the changes to storage, which writes them in one
transaction only if no row changed meanwhile. The HTTP API, the command line and the
Python API call these functions and nothing below them.
"""

from __future__ import annotations

import csv
import io
import json
import uuid
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any, Literal

from pydantic import Field

from terminology.errors import ConcordanceError, SourceFileError
from terminology.exporters.cells import safe_row
from terminology.models import CodeSystem, Frozen, MatchMethod
from terminology.review.decision_files import (
    DecisionFormat,
    ImportedDecision,
    read_decisions,
    read_decisions_text,
)
from terminology.review.double import Answer, answer_visible, blind_event, reconcile, record_answer
from terminology.review.names import check_name, person_key
from terminology.review.workflow import (
    PRINTABLE,
    RULES,
    Action,
    Actor,
    CurationError,
    Decision,
    InvalidDecision,
    InvalidTransition,
    MappingRow,
    NotAllowed,
    Role,
    Status,
    Target,
    accept_candidate,
    allowed_actions,
    curator_decided,
    decide,
    import_validated,
    may_undo,
    undo,
    why_not_filled,
)
from terminology.storage.curation import Change, Event, RowNotFoundError, RowQuery, StaleVersionError
from terminology.storage.interfaces import sql_backend
from terminology.storage.projects import Project
from terminology.storage.store import SqlStore

projects, curation, users, conceptmaps = sql_backend()
"""Storage as the Protocols of :mod:`terminology.storage.interfaces` (all this module may call)."""

__all__ = [
    "BulkOutcome",
    "BulkRequest",
    "ChosenTarget",
    "RowDecision",
    "RowView",
    "add_member",
    "bulk_decide",
    "decide_row",
    "export_decisions",
    "find_project",
    "history_csv",
    "import_decision_file",
    "import_decision_text",
    "import_decisions",
    "new_user",
    "progress",
    "row_view",
    "visible_history",
]


class RowDecision(Frozen):
    """One curator's decision on one row, as the page, the API or a script sends it."""

    action: Action | Literal["reconcile"]
    targets: tuple[Target, ...] = Field(default=(), max_length=100)
    assignee: str | None = Field(default=None, min_length=1, max_length=128, pattern=PRINTABLE)
    comment: str | None = None
    no_map: bool = False
    """With ``reconcile``: settle the conflict as "no map"."""


class BulkRequest(Frozen):
    """The same decision on listed rows (or a code range), or ``accept-candidates``: the
    best candidate of every open row whose score and method qualify."""

    action: Literal["accept", "reject", "submit", "assign", "flag", "unflag", "accept-candidates"]
    codes: tuple[str, ...] = ()
    code_from: str | None = None
    code_to: str | None = None
    within: str | None = None
    min_score: float | None = None
    expected_precision: float | None = None
    method: MatchMethod | None = None
    assignee: str | None = None
    comment: str | None = None


class BulkOutcome(Frozen):
    applied: tuple[str, ...]
    """Rows the decision was applied to (in one transaction), or would be in a preview."""
    skipped: tuple[tuple[str, str], ...]
    """Rows left as they were: (source code, why)."""
    batch: str | None = None
    """The id the batch's events share, to undo it as one (None in a preview)."""
    sample: tuple[dict[str, Any], ...] = ()
    """The first rows as they would become (source, targets, status): what a preview shows."""


PREVIEW_SAMPLE = 50
"""Rows a bulk preview shows in full (it counts them all)."""


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


# ----------------------------------------------------------------------------- projects


def find_project(store: SqlStore, reference: int | str) -> Project:
    """A project by id or by name (a name made of digits is read as an id)."""
    if isinstance(reference, str) and reference.isdigit():
        reference = int(reference)
    return projects.get_project(store, reference)


def progress(store: SqlStore, project: Project) -> tuple[dict[str, int], float | None]:
    """Rows per status (and flagged), and the share of the source's usage that accepted
    rows cover (None when the source has no usage column)."""
    return curation.status_counts(store, project), frequency_covered(store, project)


def frequency_covered(store: SqlStore, project: Project) -> float | None:
    """Share of the source's usage (its frequency column, kept on each row when matched)
    carried by accepted rows; None when the source has no frequency column."""
    return curation.usage_covered(store, project)


# ----------------------------------------------------------------------------- the queue


class QueuePage(Frozen):
    """A page of a work queue, how many rows its filters keep, and their statuses."""

    rows: tuple[tuple[MappingRow, float | None], ...]
    total: int
    counts: dict[str, int]


def queue_page(store: SqlStore, project: Project, query: RowQuery) -> QueuePage:
    """One page of the queue ``query`` describes (filters, order, offset), with the counts
    of the whole filtered queue, so the page can show "N of M" and size its scroll bar."""
    page, _ = curation.list_rows(store, project, query, count=False)
    counts = curation.filtered_counts(store, project, query)
    wanted = {status.value for status in query.status} or set(counts)
    total = sum(number for status, number in counts.items() if status in wanted)
    return QueuePage(rows=tuple(page), total=total, counts=counts)


def queue_position(store: SqlStore, project: Project, query: RowQuery, source_code: str) -> int | None:
    """Where a row stands in a filtered, sorted queue (a deep link scrolls there)."""
    curation.get_row(store, project, source_code)  # an unknown row: 404, not "filtered out"
    return curation.row_position(store, project, query, source_code)


NEIGHBOURS = 200
"""Children and siblings shown around a concept at most (the rest are counted)."""


def neighbourhood(
    store: SqlStore, project: Project, side: Literal["source", "target"], code: str
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


def progress_report(store: SqlStore, project: Project) -> Progress:
    """Progress as a project lead reads it: % decided, per curator (as author and as
    assignee), per chapter of the source hierarchy, and the share of usage covered."""
    counts = curation.status_counts(store, project)
    total = sum(counts[status.value] for status in Status)
    per_chapter = _grouped(curation.breakdown(store, project, "chapter"))
    labels = store.displays(
        store.code_system_by_id(project.source_system_id), [c for c in per_chapter if c is not None]
    )
    chapters = tuple(
        {"code": code, "display": labels.get(code) if code else None, **numbers}
        for code, numbers in sorted(per_chapter.items(), key=lambda item: (item[0] is None, item[0] or ""))
    )
    authored = _grouped(curation.breakdown(store, project, "author"))
    assigned = _grouped(curation.breakdown(store, project, "assignee"))
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


# ----------------------------------------------------------------------------- one row


def row_view(store: SqlStore, project: Project, viewer: Actor, row: MappingRow) -> RowView:
    """What the review page shows of ``row`` to ``viewer`` (a fixed number of queries,
    however many candidates the row has)."""
    target_system = store.code_system_by_id(project.target_system_id)
    source_system = store.code_system_by_id(project.source_system_id)
    found = curation.row_candidates(store, project, row.source_code)
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
            for answer in curation.answers_for(store, project, row.source_code)
            if answer_visible(row.status, viewer, answer.author)
        )
    actions = allowed_actions(row, viewer.role)
    if row.status == Status.CONFLICT and viewer.role in (Role.RECONCILER, Role.ADMIN):
        actions.append("reconcile")
    last = curation.last_event(store, project, row.source_code)
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


def concept_contexts(store: SqlStore, system: CodeSystem, codes: Sequence[str]) -> dict[str, dict[str, Any]]:
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


def chosen_targets(store: SqlStore, target_system: CodeSystem, row: MappingRow) -> tuple[ChosenTarget, ...]:
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


def decide_row(
    store: SqlStore,
    project: Project,
    actor: Actor,
    source_code: str,
    decision: RowDecision,
    *,
    expected_version: int,
    longest_comment: int,
) -> MappingRow:
    """Apply ``decision`` to the row if it is still at ``expected_version`` (the version the
    curator saw), otherwise :class:`StaleVersionError` with the current row: concurrent
    edits never overwrite each other."""
    row = curation.get_row(store, project, source_code)
    if row.version != expected_version:
        raise StaleVersionError(row)
    decision = with_member_assignee(store, project, decision)
    change = row_change(store, project, actor, row, decision, longest_comment=longest_comment)
    curation.save_decisions(store, [change])
    return change.after


def row_change(
    store: SqlStore,
    project: Project,
    actor: Actor,
    row: MappingRow,
    decision: RowDecision,
    *,
    longest_comment: int,
) -> Change:
    """One decision on one row, computed by the review rules (nothing written): in blind
    double review a ``map`` or ``no_map`` is the author's answer, not the row's decision."""
    check_comment(decision.comment, longest_comment)
    check_targets(store, project, decision.targets)
    if decision.action == "reconcile":
        asked = Decision(
            action="no_map" if decision.no_map else "map", targets=decision.targets, comment=decision.comment
        )
        return Change(row, reconcile(row, asked, actor), "reconcile", decision.comment)
    asked = Decision(
        action=decision.action,
        targets=decision.targets,
        assignee=decision.assignee,
        comment=decision.comment,
    )
    if project.review == "double" and decision.action in ("map", "no_map"):
        answers = curation.answers_for(store, project, row.source_code)
        after, answer = record_answer(row, answers, asked, actor)
        return Change(row, after, f"answer-{decision.action}", decision.comment, answer)
    return Change(row, decide(row, asked, actor), decision.action, decision.comment)


def undo_last(
    store: SqlStore, project: Project, actor: Actor, source_code: str, *, expected_version: int
) -> MappingRow:
    """Take back the row's last change (by ``actor``, or any change for an admin) if the
    row is still as the curator saw it: the row returns to its previous decision as a new
    version, and the trail keeps both."""
    row = curation.get_row(store, project, source_code)
    if row.version != expected_version:
        raise StaleVersionError(row)
    last = curation.last_event(store, project, source_code)
    if last is None or last.before is None:
        raise InvalidTransition(f"{source_code} has no decision to undo")
    before = curation.row_from_audit(row, last.before)
    after = undo(row, before, action=last.action, done_by=last.actor, actor=actor)
    curation.save_decisions(store, [Change(row, after, "undo", f"undo of {last.action}", undoes=last.id)])
    return after


def find_member(store: SqlStore, project: Project, name: str, *, what: str = "user") -> Actor:
    """The project member ``name`` means, with their role: looked up by the name's key
    (``RUI`` and ``rui `` are ``rui``), never taken as free text. A name with invisible or
    control characters, or no member of that name, is refused."""
    key = person_key(check_name(name, what=what))
    for member, role in users.members_of(store, project):
        if person_key(member) == key:
            return Actor(name=member, role=role)
    raise InvalidDecision(f"{name!r} is not a member of project {project.name!r}")


def new_user(store: SqlStore, name: str) -> tuple[str, str]:
    """A new user and their token (shown once): the name checked as every name is, and
    refused when it is another spelling of an existing user's (``RUI`` beside ``rui``), so
    that one person never holds two accounts the review rules would tell apart."""
    checked = check_name(name, what="user name")
    key = person_key(checked)
    clash = next((known for known in users.user_names(store) if person_key(known) == key), None)
    if clash is not None:
        raise InvalidDecision(f"{checked!r} is another spelling of the existing user {clash!r}")
    user, token = users.create_user(store, checked)
    return user.name, token


def add_member(store: SqlStore, project: Project, name: str, role: Role) -> Actor:
    """Give ``name`` a role in ``project``, creating the user (with no usable token until
    ``concordance users token``) when the name is new: what an analyst's notebook calls
    before it imports decisions on someone's behalf. A name is checked as every name is."""
    checked = check_name(name, what="user name")
    key = person_key(checked)
    existing = next((known for known in users.user_names(store) if person_key(known) == key), None)
    user = users.find_user(store, existing) if existing else users.create_user(store, checked)[0]
    users.add_member(store, project, user, role)
    return Actor(name=user.name, role=role)


def with_member_assignee(store: SqlStore, project: Project, decision: RowDecision) -> RowDecision:
    """``decision`` with its assignee (for ``assign``) resolved to a member who can act on rows."""
    if decision.action != "assign" or decision.assignee is None:
        return decision
    return decision.model_copy(update={"assignee": assignable_member(store, project, decision.assignee)})


def assignable_member(store: SqlStore, project: Project, name: str) -> str:
    """The member a row may be assigned to: one whose role can act on rows (author or
    above); their name as the project knows it."""
    member = find_member(store, project, name, what="assignee")
    if member.role == Role.VIEWER:
        raise InvalidDecision(
            f"{member.name} is a viewer of project {project.name!r}; a row is assigned to an author or above"
        )
    return member.name


def check_comment(comment: str | None, most: int) -> None:
    if comment is not None and len(comment) > most:
        raise InvalidDecision(f"the comment has {len(comment):,} characters; at most {most:,} are kept")


def check_targets(store: SqlStore, project: Project, targets: Sequence[Target]) -> None:
    """Every chosen target must be a code of the project's target system version."""
    if not targets:
        return
    system = store.code_system_by_id(project.target_system_id)
    known = store.known_codes(system, [target.code for target in targets])
    for target in targets:
        if target.code not in known:
            raise InvalidDecision(f"{target.code} is not a code of {system.reference}")


# ----------------------------------------------------------------------------- many rows


def bulk_decide(
    store: SqlStore,
    project: Project,
    actor: Actor,
    request: BulkRequest,
    *,
    longest_comment: int,
    preview: bool = False,
) -> BulkOutcome:
    """One decision on many rows. Rows it cannot apply to are skipped, each with its
    reason; the others are written in one transaction, so the bulk lands whole or not at
    all (a row changed by someone else meanwhile fails it, and nothing is written). The
    review rules hold as for one row: roles, four eyes, blind answers. With ``preview``
    the same rules run and nothing is written: what the curator confirms is what lands."""
    changes: list[Change] = []
    skipped: list[tuple[str, str]] = []
    check_comment(request.comment, longest_comment)  # once for all: one comment, many rows
    if request.action == "accept-candidates":
        require(actor, Role.REVIEWER)
        answered = curation.answered_codes(store, project) if project.review == "double" else set()
        for row, candidate in qualifying_candidates(store, project, request):
            why = why_not_filled(row, actor, answered=row.source_code in answered)
            if why is not None:
                skipped.append((row.source_code, why))
                continue
            target = Target(code=candidate["target_code"], equivalence=candidate["equivalence"])
            after = accept_candidate(row, target, actor, method=candidate["method"])
            changes.append(Change(row, after, "accept-candidate", request.comment or candidate["reason"]))
    else:
        require(actor, RULES[request.action].role)
        decision = RowDecision(action=request.action, assignee=request.assignee, comment=request.comment)
        decision = with_member_assignee(store, project, decision)  # once for all rows
        for row in bulk_rows(store, project, request):
            try:
                changes.append(
                    row_change(store, project, actor, row, decision, longest_comment=longest_comment)
                )
            except ConcordanceError as error:
                skipped.append((row.source_code, str(error)))
    batch = None if preview else uuid.uuid4().hex
    if not preview:
        curation.save_decisions(store, [replace(change, batch=batch) for change in changes])
    return BulkOutcome(
        applied=tuple(change.after.source_code for change in changes),
        skipped=tuple(skipped),
        batch=batch,
        sample=tuple(_preview_of(change) for change in changes[:PREVIEW_SAMPLE]),
    )


def _preview_of(change: Change) -> dict[str, Any]:
    after = change.after
    return {
        "source_code": after.source_code,
        "source_label": after.source_label,
        "status": after.status.value,
        "targets": [target.model_dump() for target in after.targets],
        "reason": change.comment,
    }


def undo_batch(store: SqlStore, project: Project, actor: Actor, batch: str) -> BulkOutcome:
    """Undo a bulk decision as one: every row goes back as it was, in one transaction, or
    none does when any was changed since (then the rows to look at are named)."""
    found = curation.batch_events(store, project, batch)
    if not found:
        raise RowNotFoundError(f"no bulk decision {batch!r} in project {project.name!r}")
    rows = curation.get_rows(store, project, [event.source_code for event in found])
    moved = [
        event.source_code
        for event in found
        if rows[event.source_code].version != (event.after or {}).get("version")
    ]
    if moved:
        shown = ", ".join(moved[:5]) + ("…" if len(moved) > 5 else "")
        raise InvalidTransition(
            f"{len(moved)} row(s) of this batch changed since ({shown}); nothing was undone"
        )
    undone = uuid.uuid4().hex
    changes = [
        Change(
            rows[event.source_code],
            undo(
                rows[event.source_code],
                curation.row_from_audit(rows[event.source_code], event.before or {}),
                action=event.action,
                done_by=event.actor,
                actor=actor,
            ),
            "undo",
            f"undo of bulk {batch}",
            batch=undone,
            undoes=event.id,
        )
        for event in found
    ]
    curation.save_decisions(store, changes)
    applied = tuple(change.after.source_code for change in changes)
    return BulkOutcome(applied=applied, skipped=(), batch=undone)


def require(actor: Actor, role: Role) -> None:
    """Refuse the whole request when ``actor``'s role is below ``role``."""
    from terminology.review.workflow import RANK

    if RANK[actor.role] < RANK[role]:
        raise NotAllowed(f"this needs the role {role.value}; {actor.name} is {actor.role.value}")


def bulk_rows(store: SqlStore, project: Project, request: BulkRequest) -> list[MappingRow]:
    """The listed rows, then those of the code range (an unknown code: not found, nothing done)."""
    rows = [curation.get_row(store, project, code) for code in dict.fromkeys(request.codes)]
    if request.code_from is not None or request.code_to is not None or request.within is not None:
        query = RowQuery(
            code_from=request.code_from, code_to=request.code_to, within=request.within, limit=10**7
        )
        in_range, _ = curation.list_rows(store, project, query)
        listed = set(request.codes)
        rows += [row for row, _ in in_range if row.source_code not in listed]
    return rows


def qualifying_candidates(
    store: SqlStore, project: Project, request: BulkRequest
) -> list[tuple[MappingRow, dict[str, Any]]]:
    """Each row (the listed ones, or every row not yet accepted) with its best candidate,
    when that candidate meets the bar; whether the row may take it is decided after."""
    query = RowQuery(
        status=(Status.UNMAPPED, Status.DRAFT, Status.IN_REVIEW, Status.REJECTED, Status.CONFLICT),
        codes=request.codes,
        code_from=request.code_from,
        code_to=request.code_to,
        within=request.within,
        min_score=request.min_score,
        limit=10**7,
    )
    page, _ = curation.list_rows(store, project, query)
    best = curation.best_candidates(store, project, [row.source_code for row, _ in page])
    chosen = []
    for row, _score in page:
        found = best.get(row.source_code)
        if found is None:
            continue
        if request.min_score is not None and found["score"] < request.min_score:
            continue
        if request.method is not None and found["method"] != request.method:
            continue
        chosen.append((row, found))
    if request.expected_precision is not None:
        from terminology.matching.ranker import threshold_for_precision

        open_rows = [(row, found) for row, found in chosen if row.status == Status.UNMAPPED]
        bar = threshold_for_precision([found["score"] for _, found in open_rows], request.expected_precision)
        chosen = [] if bar is None else [(row, found) for row, found in chosen if found["score"] >= bar]
    return chosen


# ----------------------------------------------------------------------------- decisions from files


def import_decisions(
    store: SqlStore,
    project: Project,
    decisions: Sequence[ImportedDecision],
    actor: Actor,
    *,
    source_name: str,
    replace: bool = False,
) -> int:
    """Record validated decisions from a file as accepted rows, each with an ``import``
    event naming ``FILE:LINE`` and who made it, under the rules a curator's click follows
    (:func:`terminology.review.workflow.import_validated`: the reviewer role, four eyes, no
    decided row overwritten unless an admin asks to ``replace`` it, recorded as
    ``import-replace``).

    In blind double review a row holding a pending blind answer refuses the file: recording
    the import as the second answer would tell the importer, by the row's outcome, whether
    the first answer agreed with the file, and accepting it would skip the second answer.
    The authors answer on the page, or the import waits for the reconciliation.

    Every row is checked before anything is written, and all are written in one
    transaction: a file with one bad row changes nothing. Returns the number of rows decided."""
    target = store.code_system_by_id(project.target_system_id)
    known = store.known_codes(target, [t.code for decision in decisions for t in decision.targets])
    rows = curation.get_rows(store, project, [decision.source_code for decision in decisions])
    answered = curation.answered_codes(store, project)  # whatever the mode now: answers stay blind
    changes = [
        _imported_change(decision, rows, known, answered, actor, source_name, replace=replace)
        for decision in decisions
    ]
    curation.save_decisions(store, changes)
    return len(changes)


def _imported_change(
    decision: ImportedDecision,
    rows: dict[str, MappingRow],
    known: set[str],
    answered: set[str],
    actor: Actor,
    source_name: str,
    *,
    replace: bool,
) -> Change:
    path, _, line = decision.where.rpartition(":")
    try:
        unknown = [target.code for target in decision.targets if target.code not in known]
        if unknown:
            raise InvalidDecision(f"target code {unknown[0]!r} is not in the project's target system")
        before = rows.get(decision.source_code)
        if before is None:
            raise InvalidDecision(
                f"source code {decision.source_code!r} is not a source concept of the project"
            )
        if decision.source_code in answered and before.status == Status.UNMAPPED:
            raise InvalidTransition(
                f"{decision.source_code} holds a pending blind answer; its second author answers "
                "on the page (an import would reveal or skip the blind answer)"
            )
        replaced = replace and curator_decided(before)
        after = import_validated(before, decision.targets, actor, author=decision.author, replace=replace)
    except CurationError as error:
        raise SourceFileError(
            path or source_name, str(error), line=int(line) if line.isdigit() else None
        ) from error
    rows[decision.source_code] = after
    comment = f"validated by {decision.author}; imported from {decision.where}"
    if replaced:
        comment += f"; replaces the {before.status.value} decision by an admin's choice"
    return Change(before, after, "import-replace" if replaced else "import", comment)


def import_decision_file(
    store: SqlStore,
    project: Project,
    path: Path,
    *,
    by: str,
    format: DecisionFormat | None = None,
    replace: bool = False,
) -> int:
    """Read a file of validated mappings (CSV, SSSOM or Usagi export) and record it with
    :func:`import_decisions`, ``by`` vouching for it: a member of the project, looked up
    (never free text), with their role there. What the command line and the Python API call."""
    actor = find_member(store, project, by, what="reviewer")
    decisions = read_decisions(path, format=format)
    return import_decisions(store, project, decisions, actor, source_name=str(path), replace=replace)


def import_decision_text(
    store: SqlStore,
    project: Project,
    actor: Actor,
    name: str,
    text: str,
    *,
    format: DecisionFormat | None = None,
    replace: bool = False,
) -> int:
    """The same import from an upload (the HTTP API): ``name`` stands for the file in errors
    and in the audit trail, ``actor`` is the signed-in member."""
    decisions = read_decisions_text(Path(name), text, format=format)
    return import_decisions(store, project, decisions, actor, source_name=name, replace=replace)


# ----------------------------------------------------------------------------- audit trail and exports


def visible_history(
    store: SqlStore, project: Project, viewer: Actor, source_code: str | None = None
) -> list[Event]:
    """The audit trail as ``viewer`` may read it: blind answers stay hidden from everyone
    but their author until both are in, and from viewers until the row is settled
    (:func:`terminology.review.double.answer_visible`)."""
    if source_code is not None:
        curation.get_row(store, project, source_code)  # an unknown row is not found, not empty
    found = curation.history(store, project, source_code)
    answering = {event.source_code for event in found if event.action.startswith("answer-")}
    if not answering:
        return found
    statuses = curation.statuses(store, project, answering)
    shown = []
    for event in found:
        status = statuses.get(event.source_code, Status.UNMAPPED)
        if event.action.startswith("answer-") and not answer_visible(status, viewer, event.actor):
            after, comment = blind_event(event.after, event.comment)
            event = event.model_copy(update={"after": after, "comment": comment})
        shown.append(event)
    return shown


HISTORY_COLUMNS = (
    "id", "at", "actor", "source_code", "action", "from_status", "to_status", "comment", "before", "after",
)  # fmt: skip


def history_csv(found: Sequence[Event]) -> str:
    """The audit trail as CSV (one line per change, states as JSON), safe to open in a
    spreadsheet."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")  # RFC 4180: a CR or LF in a cell is quoted
    writer.writerow(HISTORY_COLUMNS)
    for event in found:
        writer.writerow(
            safe_row(
                [
                    event.id,
                    event.at.isoformat(),
                    event.actor,
                    event.source_code,
                    event.action,
                    (event.before or {}).get("status", ""),
                    (event.after or {}).get("status", ""),
                    event.comment or "",
                    json.dumps(event.before, ensure_ascii=False, sort_keys=True),
                    json.dumps(event.after, ensure_ascii=False, sort_keys=True),
                ]
            )
        )
    return out.getvalue()


DECISION_COLUMNS = (
    "source_code", "source_label", "status", "target_code", "target_label", "equivalence", "no_map", "author",
    "reviewer", "comment", "version", "updated_at",
)  # fmt: skip
EXPORTED = (Status.ACCEPTED, Status.REJECTED, Status.IN_REVIEW, Status.DRAFT)


def export_decisions(store: SqlStore, project: Project, format: Literal["sssom", "csv"]) -> str:
    """The project's current decisions (every status but unmapped and conflict) as SSSOM TSV
    or as CSV, one line per target."""
    from terminology.exporters.sssom import write_decisions_sssom

    source = store.code_system_by_id(project.source_system_id)
    target = store.code_system_by_id(project.target_system_id)
    page, _ = curation.list_rows(store, project, RowQuery(status=EXPORTED, limit=10**7))
    rows = [row for row, _ in page]
    displays = {
        code: label
        for code, label in store.displays(target, {t.code for row in rows for t in row.targets}).items()
        if label is not None
    }
    out = io.StringIO()
    if format == "sssom":
        write_decisions_sssom(
            rows, displays, source, target, out, mapping_set_id=f"urn:concordance:project:{project.id}"
        )
        return out.getvalue()
    writer = csv.writer(out, lineterminator="\r\n")  # RFC 4180: a CR or LF in a cell is quoted
    writer.writerow(DECISION_COLUMNS)
    for row in rows:
        chosen: list[tuple[str, str]] = [(t.code, t.equivalence) for t in row.targets] or [("", "")]
        for target_code, equivalence in chosen:
            writer.writerow(
                safe_row(
                    [
                        row.source_code,
                        row.source_label or "",
                        row.status.value,
                        target_code,
                        displays.get(target_code, ""),
                        equivalence,
                        row.no_map,
                        row.author or "",
                        row.reviewer or "",
                        row.comment or "",
                        row.version,
                        row.updated_at.isoformat() if row.updated_at else "",
                    ]
                )
            )
    return out.getvalue()


def search_targets(store: SqlStore, project: Project, text: str, *, limit: int = 20) -> list[dict[str, Any]]:
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
    store: SqlStore, system: CodeSystem, parents: dict[str, Sequence[str]], *, deepest: int = 32
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
