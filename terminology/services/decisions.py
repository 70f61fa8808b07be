"""Decisions on rows — one (decide, reconcile a double review, undo the last) or many at
once (bulk, with preview and undo of the whole batch) — each asked of the pure rules of
:mod:`terminology.review` and written by storage in one transaction only if no row changed
meanwhile."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any, Literal

from pydantic import Field

from terminology.backends import Backends
from terminology.errors import ConcordanceError
from terminology.models import Frozen, MatchMethod
from terminology.records import Change, Project, RowNotFoundError, RowQuery, StaleVersionError
from terminology.review.double import reconcile, record_answer
from terminology.review.workflow import (
    PRINTABLE,
    RULES,
    Action,
    Actor,
    Decision,
    InvalidDecision,
    InvalidTransition,
    MappingRow,
    NotAllowed,
    Role,
    Status,
    Target,
    accept_candidate,
    decide,
    undo,
    why_not_filled,
)
from terminology.services.users import assignable_member


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


def decide_row(
    store: Backends,
    project: Project,
    actor: Actor,
    source_code: str,
    decision: RowDecision,
    *,
    expected_version: int,
    longest_comment: int,
    now: datetime | None = None,
) -> MappingRow:
    """Apply ``decision`` to the row if it is still at ``expected_version`` (the version the
    curator saw), otherwise :class:`StaleVersionError` with the current row: concurrent
    edits never overwrite each other. ``now`` is the clock's time unless a recorded session
    is replayed (the HTTP API never sets it)."""
    row = store.rows.get_row(project, source_code)
    if row.version != expected_version:
        raise StaleVersionError(row)
    decision = with_member_assignee(store, project, decision)
    change = row_change(store, project, actor, row, decision, longest_comment=longest_comment, now=now)
    store.rows.save_decisions([change])
    return change.after


def row_change(
    store: Backends,
    project: Project,
    actor: Actor,
    row: MappingRow,
    decision: RowDecision,
    *,
    longest_comment: int,
    now: datetime | None = None,
) -> Change:
    """One decision on one row, computed by the review rules (nothing written): in blind
    double review a ``map`` or ``no_map`` is the author's answer, not the row's decision."""
    check_comment(decision.comment, longest_comment)
    check_targets(store, project, decision.targets)
    if decision.action == "reconcile":
        asked = Decision(
            action="no_map" if decision.no_map else "map", targets=decision.targets, comment=decision.comment
        )
        return Change(row, reconcile(row, asked, actor, now=now), "reconcile", decision.comment)
    asked = Decision(
        action=decision.action,
        targets=decision.targets,
        assignee=decision.assignee,
        comment=decision.comment,
    )
    if project.review == "double" and decision.action in ("map", "no_map"):
        answers = store.rows.answers_for(project, row.source_code)
        after, answer = record_answer(row, answers, asked, actor, now=now)
        return Change(row, after, f"answer-{decision.action}", decision.comment, answer)
    return Change(row, decide(row, asked, actor, now=now), decision.action, decision.comment)


def undo_last(
    store: Backends, project: Project, actor: Actor, source_code: str, *, expected_version: int
) -> MappingRow:
    """Take back the row's last change (by ``actor``, or any change for an admin) if the
    row is still as the curator saw it: the row returns to its previous decision as a new
    version, and the trail keeps both."""
    row = store.rows.get_row(project, source_code)
    if row.version != expected_version:
        raise StaleVersionError(row)
    last = store.rows.last_event(project, source_code)
    if last is None or last.before is None:
        raise InvalidTransition(f"{source_code} has no decision to undo")
    before = store.rows.row_from_audit(row, last.before)
    after = undo(row, before, action=last.action, done_by=last.actor, actor=actor)
    store.rows.save_decisions([Change(row, after, "undo", f"undo of {last.action}", undoes=last.id)])
    return after


def with_member_assignee(store: Backends, project: Project, decision: RowDecision) -> RowDecision:
    """``decision`` with its assignee (for ``assign``) resolved to a member who can act on rows."""
    if decision.action != "assign" or decision.assignee is None:
        return decision
    return decision.model_copy(update={"assignee": assignable_member(store, project, decision.assignee)})


def check_comment(comment: str | None, most: int) -> None:
    if comment is not None and len(comment) > most:
        raise InvalidDecision(f"the comment has {len(comment):,} characters; at most {most:,} are kept")


def check_targets(store: Backends, project: Project, targets: Sequence[Target]) -> None:
    """Every chosen target must be a code of the project's target system version."""
    if not targets:
        return
    system = store.code_system_by_id(project.target_system_id)
    known = store.known_codes(system, [target.code for target in targets])
    for target in targets:
        if target.code not in known:
            raise InvalidDecision(f"{target.code} is not a code of {system.reference}")


def bulk_decide(
    store: Backends,
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
        answered = store.rows.answered_codes(project) if project.review == "double" else set()
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
        store.rows.save_decisions([replace(change, batch=batch) for change in changes])
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


def undo_batch(store: Backends, project: Project, actor: Actor, batch: str) -> BulkOutcome:
    """Undo a bulk decision as one: every row goes back as it was, in one transaction, or
    none does when any was changed since (then the rows to look at are named)."""
    found = store.rows.batch_events(project, batch)
    if not found:
        raise RowNotFoundError(f"no bulk decision {batch!r} in project {project.name!r}")
    rows = store.rows.get_rows(project, [event.source_code for event in found])
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
                store.rows.row_from_audit(rows[event.source_code], event.before or {}),
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
    store.rows.save_decisions(changes)
    applied = tuple(change.after.source_code for change in changes)
    return BulkOutcome(applied=applied, skipped=(), batch=undone)


def require(actor: Actor, role: Role) -> None:
    """Refuse the whole request when ``actor``'s role is below ``role``."""
    from terminology.review.workflow import RANK

    if RANK[actor.role] < RANK[role]:
        raise NotAllowed(f"this needs the role {role.value}; {actor.name} is {actor.role.value}")


def bulk_rows(store: Backends, project: Project, request: BulkRequest) -> list[MappingRow]:
    """The listed rows, then those of the code range (an unknown code: not found, nothing done)."""
    rows = [store.rows.get_row(project, code) for code in dict.fromkeys(request.codes)]
    if request.code_from is not None or request.code_to is not None or request.within is not None:
        query = RowQuery(
            code_from=request.code_from, code_to=request.code_to, within=request.within, limit=10**7
        )
        in_range, _ = store.rows.list_rows(project, query)
        listed = set(request.codes)
        rows += [row for row, _ in in_range if row.source_code not in listed]
    return rows


def qualifying_candidates(
    store: Backends, project: Project, request: BulkRequest
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
    page, _ = store.rows.list_rows(project, query)
    best = store.rows.best_candidates(project, [row.source_code for row, _ in page])
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
