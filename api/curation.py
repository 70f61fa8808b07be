"""Curation routes under ``/api``: projects, work queues, decisions, history, exports.

Every write carries the row version it was computed from (``If-Match``); a stale one
gets 412 with the current row, never an overwrite.
"""

from __future__ import annotations

import csv
import io
from typing import Annotated, Any

from fastapi import APIRouter, BackgroundTasks, Header, Query, Request, Response
from fastapi import Path as PathParam
from fastapi.responses import PlainTextResponse

from api.deps import LARGEST_ID, Caller, DatabaseId, Member, Membership, Store
from api.errors import PreconditionRequiredError
from api.schemas import (
    AnswerPublic,
    BulkIn,
    BulkResult,
    CandidatePublic,
    ChosenTarget,
    DecisionIn,
    ProjectPatch,
    ProjectPublic,
    RowDetail,
    RowPage,
    RowPublic,
)
from terminology.errors import ConcordanceError
from terminology.exporters.cells import safe_row
from terminology.matching.normalise import default_normaliser
from terminology.matching.search import pair_similarity
from terminology.models import CodeSystem
from terminology.review.double import answer_visible, reconcile, record_answer
from terminology.review.workflow import (
    RULES,
    Decision,
    InvalidDecision,
    MappingRow,
    Role,
    Status,
    Target,
    accept_candidate,
    allowed_actions,
    decide,
    why_not_filled,
)
from terminology.storage import curation
from terminology.storage.store import SqlStore

router = APIRouter(tags=["curation"])
CSV_COLUMNS = (
    "source_code", "source_label", "status", "target_code", "target_label", "equivalence", "no_map", "author",
    "reviewer", "comment", "version", "updated_at",
)  # fmt: skip


def _system(store: SqlStore, system_id: int) -> CodeSystem:
    return store.code_system_by_id(system_id)


def _project_public(store: SqlStore, member: Membership) -> ProjectPublic:
    project = member.project
    return ProjectPublic(
        id=project.id,
        name=project.name,
        review=project.review,
        source=_system(store, project.source_system_id).reference,
        target=_system(store, project.target_system_id).reference,
        role=member.actor.role.value,
        counts=curation.status_counts(store, project),
        frequency_covered=curation.frequency_covered(store, project),
    )


@router.get("/projects", summary="The mapping projects you are a member of")
def list_projects(store: Store, user: Caller) -> list[ProjectPublic]:
    found = []
    for project in curation.list_projects(store, user):
        role = curation.role_of(store, project, user)
        assert role is not None
        from terminology.review.workflow import Actor

        found.append(_project_public(store, Membership(project, Actor(name=user.name, role=role))))
    return found


@router.get("/projects/{project_id}", summary="A project, your role in it and its progress")
def get_project(store: Store, member: Member) -> ProjectPublic:
    return _project_public(store, member)


@router.patch("/projects/{project_id}", summary="Switch single / blind double review (admin)")
def patch_project(store: Store, member: Member, patch: ProjectPatch) -> ProjectPublic:
    member.require(Role.ADMIN)
    updated = curation.set_review_mode(store, member.project, patch.review)
    return _project_public(store, Membership(updated, member.actor))


@router.delete(
    "/projects/{project_id}/members/{user_name}",
    summary="Take a member's role away (admin); their next request is refused",
    status_code=204,
)
def delete_member(
    store: Store, member: Member, user_name: Annotated[str, PathParam(max_length=128)]
) -> Response:
    member.require(Role.ADMIN)
    curation.remove_member(store, member.project, curation.find_user(store, user_name))
    return Response(status_code=204)


@router.post("/users/me/revoke", summary="Revoke your own token (e.g. leaked)", status_code=204)
def revoke_own_token(store: Store, user: Caller) -> Response:
    curation.revoke_user(store, user.name)
    return Response(status_code=204)


@router.get("/projects/{project_id}/rows", summary="A work queue: filtered, sorted, paginated rows")
def list_rows(
    store: Store,
    member: Member,
    status: Annotated[list[Status] | None, Query()] = None,
    assignee: str | None = None,
    mine: bool = False,
    flagged: bool | None = None,
    min_score: Annotated[float | None, Query(ge=0, le=1)] = None,
    max_score: Annotated[float | None, Query(ge=0, le=1)] = None,
    q: Annotated[str | None, Query(max_length=200, description="Text in the source code or label")] = None,
    sort: curation.SortKey = "source_code",
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Annotated[int, Query(ge=0, le=LARGEST_ID)] = 0,
) -> RowPage:
    query = curation.RowQuery(
        status=tuple(status or ()),
        assignee=member.actor.name if mine else assignee,
        flagged=flagged,
        min_score=min_score,
        max_score=max_score,
        text=q,
        sort=sort,
        limit=limit,
        offset=offset,
    )
    page, total = curation.list_rows(store, member.project, query)
    return RowPage(
        total=total, offset=offset, limit=limit, items=[RowPublic.of(row, best) for row, best in page]
    )


def _concept_context(store: SqlStore, system: CodeSystem, code: str) -> dict[str, Any]:
    concept = store.concept(system, code)
    if concept is None:
        return {"code": code, "display": None}
    return {
        "code": concept.code,
        "display": concept.display,
        "parents": [
            {"code": parent, "display": (found.display if (found := store.concept(system, parent)) else None)}
            for parent in concept.parents
        ],
        "synonyms": [
            {"label": d.value, "language": d.language, "use": d.use}
            for d in concept.designations
            if d.value != concept.display
        ],
        "properties": concept.properties,
        "active": concept.active,
    }


def _chosen(store: SqlStore, member: Membership, row: MappingRow) -> list[ChosenTarget]:
    """Each chosen target scored for this very pair now, so no stale score is shown."""
    normalise = default_normaliser().normalise
    target_system = _system(store, member.project.target_system_id)
    chosen = []
    for target in row.targets:
        concept = store.concept(target_system, target.code)
        display = concept.display if concept else None
        score = (
            pair_similarity(normalise(row.source_label or ""), normalise(display or "")) if display else None
        )
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
    return chosen


def _detail(store: SqlStore, member: Membership, row: MappingRow) -> RowDetail:
    project = member.project
    target_system = _system(store, project.target_system_id)
    candidates = []
    for found in curation.row_candidates(store, project, row.source_code):
        context = _concept_context(store, target_system, found["target_code"])
        candidates.append(CandidatePublic(**found, target_label=context["display"], target_context=context))
    answers = []
    if project.review == "double":
        visible = [
            answer
            for answer in curation.answers_for(store, project, row.source_code)
            if answer_visible(row.status, member.actor, answer.author)
        ]
        answers = [AnswerPublic(**answer.model_dump()) for answer in visible]
    actions = allowed_actions(row, member.actor.role)
    if row.status == Status.CONFLICT and member.actor.role in (Role.RECONCILER, Role.ADMIN):
        actions.append("reconcile")
    return RowDetail(
        row=RowPublic.of(row),
        source=_concept_context(store, _system(store, project.source_system_id), row.source_code),
        candidates=candidates,
        chosen=_chosen(store, member, row),
        allowed_actions=actions,
        answers=answers,
    )


@router.get("/projects/{project_id}/rows/{source_code:path}/history", summary="A row's audit trail")
def row_history(store: Store, member: Member, source_code: str) -> list[curation.Event]:
    curation.get_row(store, member.project, source_code)
    return curation.visible_history(store, member.project, member.actor, source_code)


@router.get("/projects/{project_id}/rows/{source_code:path}", summary="A row with its context and candidates")
def get_row(store: Store, member: Member, source_code: str, response: Response) -> RowDetail:
    row = curation.get_row(store, member.project, source_code)
    response.headers["ETag"] = RowPublic.etag_of(row)
    return _detail(store, member, row)


def _expected_version(if_match: str | None) -> int:
    if not if_match:
        raise PreconditionRequiredError("send If-Match with the ETag of the row you decided on")
    value = if_match.strip().removeprefix("W/").strip('"')
    if not (value.isascii() and value.isdigit()) or len(value) > 18:
        raise PreconditionRequiredError(f'If-Match must be a row ETag such as "3", not {if_match!r}')
    return int(value)


def _longest_comment(request: Request) -> int:
    most: int = request.app.state.settings.max_comment_chars
    return most


def _check_comment(comment: str | None, most: int) -> None:
    if comment is not None and len(comment) > most:
        raise InvalidDecision(f"the comment has {len(comment):,} characters; at most {most:,} are kept")


def _check_targets(store: SqlStore, project: curation.Project, targets: tuple[Target, ...]) -> None:
    """Every chosen target must be a code of the project's target system version."""
    if not targets:
        return
    system = _system(store, project.target_system_id)
    known = store.known_codes(system, [target.code for target in targets])
    for target in targets:
        if target.code not in known:
            raise InvalidDecision(f"{target.code} is not a code of {system.reference}")


def _apply(
    store: SqlStore, member: Membership, row: MappingRow, decision: DecisionIn, *, longest_comment: int
) -> MappingRow:
    """Compute and save one decision (single or double review)."""
    change = _change(store, member, row, decision, longest_comment=longest_comment)
    curation.save_decisions(store, [change])
    return change.after


def _change(
    store: SqlStore, member: Membership, row: MappingRow, decision: DecisionIn, *, longest_comment: int
) -> curation.Change:
    """One decision on one row, computed by the workflow's rules (nothing written)."""
    project = member.project
    targets = tuple(decision.targets)
    _check_comment(decision.comment, longest_comment)
    _check_targets(store, project, targets)
    if decision.action == "reconcile":
        asked = Decision(
            action="no_map" if decision.no_map else "map", targets=targets, comment=decision.comment
        )
        return curation.Change(row, reconcile(row, asked, member.actor), "reconcile", decision.comment)
    asked = Decision(
        action=decision.action, targets=targets, assignee=decision.assignee, comment=decision.comment
    )
    if project.review == "double" and decision.action in ("map", "no_map"):
        answers = curation.answers_for(store, project, row.source_code)
        after, answer = record_answer(row, answers, asked, member.actor)
        return curation.Change(row, after, f"answer-{decision.action}", decision.comment, answer)
    return curation.Change(row, decide(row, asked, member.actor), decision.action, decision.comment)


@router.post(
    "/projects/{project_id}/rows/{source_code:path}/decisions",
    summary="Decide on a row (needs If-Match: the row's ETag)",
    responses={412: {"description": "The row changed since; the body carries the current row"}},
)
def post_decision(
    store: Store,
    member: Member,
    source_code: str,
    decision: DecisionIn,
    response: Response,
    request: Request,
    background: BackgroundTasks,
    if_match: Annotated[str | None, Header()] = None,
) -> RowDetail:
    expected = _expected_version(if_match)
    row = curation.get_row(store, member.project, source_code)
    if row.version != expected:
        raise curation.StaleVersionError(row)
    saved = _apply(store, member, row, decision, longest_comment=_longest_comment(request))
    _learn_when_due(store, member.project, request, background)
    response.headers["ETag"] = RowPublic.etag_of(saved)
    return _detail(store, member, saved)


def _learn_when_due(
    store: SqlStore, project: curation.Project, request: Request, background: BackgroundTasks
) -> None:
    """Every ``CONCORDANCE_RETRAIN_EVERY`` accepted rows, the project's model is refitted
    and its candidates re-ranked after the answer is sent (in the worker's thread pool, so
    neither this request nor the event loop waits for it)."""
    from terminology.matching.learning import retrain_due

    if project.id not in _LEARNING and retrain_due(store, project, request.app.state.retrain_every):
        _LEARNING.add(project.id)  # one refit per project at a time in this worker
        background.add_task(_learn, store, project.id)


_LEARNING: set[int] = set()
"""Projects whose model this worker is refitting now."""


def _learn(store: SqlStore, project_id: int) -> None:
    from terminology.matching.learning import retrain_project

    try:
        retrain_project(store, project_id)
    finally:
        _LEARNING.discard(project_id)


@router.post("/projects/{project_id}/bulk-decisions", summary="One decision on many rows, all or nothing")
def post_bulk(
    store: Store, member: Member, bulk: BulkIn, request: Request, background: BackgroundTasks
) -> BulkResult:
    """Rows the decision cannot apply to are skipped, each with its reason; the others are
    written in one transaction, so the bulk lands whole or not at all (a row changed by
    someone else meanwhile fails it with 412, and nothing is written)."""
    project = member.project
    changes: list[curation.Change] = []
    skipped: list[dict[str, str]] = []
    longest = _longest_comment(request)
    _check_comment(bulk.comment, longest)  # once for all: one comment, many rows
    if bulk.action == "accept-candidates":
        member.require(Role.REVIEWER)
        answered = curation.answered_codes(store, project) if project.review == "double" else set()
        for row, candidate in _qualifying_candidates(store, member, bulk):
            why = why_not_filled(row, member.actor, answered=row.source_code in answered)
            if why is not None:
                skipped.append({"source_code": row.source_code, "reason": why})
                continue
            target = Target(code=candidate["target_code"], equivalence=candidate["equivalence"])
            after = accept_candidate(row, target, member.actor, method=candidate["method"])
            changes.append(
                curation.Change(row, after, "accept-candidate", bulk.comment or candidate["reason"])
            )
    else:
        member.require(RULES[bulk.action].role)
        decision = DecisionIn(action=bulk.action, assignee=bulk.assignee, comment=bulk.comment)
        for row in _bulk_rows(store, project, bulk):
            try:
                changes.append(_change(store, member, row, decision, longest_comment=longest))
            except ConcordanceError as error:
                skipped.append({"source_code": row.source_code, "reason": str(error)})
    curation.save_decisions(store, changes)
    _learn_when_due(store, project, request, background)
    return BulkResult(applied=[change.after.source_code for change in changes], skipped=skipped)


def _bulk_rows(store: SqlStore, project: curation.Project, bulk: BulkIn) -> list[MappingRow]:
    """The listed rows, then those of the code range (unknown codes: 404, nothing done)."""
    rows = [curation.get_row(store, project, code) for code in dict.fromkeys(bulk.codes)]
    if bulk.code_from is not None or bulk.code_to is not None:
        in_range, _ = curation.list_rows(
            store, project, curation.RowQuery(code_from=bulk.code_from, code_to=bulk.code_to, limit=10**7)
        )
        listed = set(bulk.codes)
        rows += [row for row, _ in in_range if row.source_code not in listed]
    return rows


def _qualifying_candidates(
    store: SqlStore, member: Membership, bulk: BulkIn
) -> list[tuple[MappingRow, dict[str, Any]]]:
    """Each row (the listed ones, or every row not yet accepted) with its best candidate,
    when that candidate meets the bar; whether the row may take it is decided after."""
    query = curation.RowQuery(
        status=(Status.UNMAPPED, Status.DRAFT, Status.IN_REVIEW, Status.REJECTED, Status.CONFLICT),
        codes=tuple(bulk.codes),
        min_score=bulk.min_score,
        limit=1_000_000,
    )
    page, _ = curation.list_rows(store, member.project, query)
    chosen = []
    for row, _best in page:
        found = curation.row_candidates(store, member.project, row.source_code)
        if not found:
            continue
        best = found[0]
        if bulk.min_score is not None and best["score"] < bulk.min_score:
            continue
        if bulk.method is not None and best["method"] != bulk.method:
            continue
        chosen.append((row, best))
    if bulk.expected_precision is not None:
        from terminology.matching.ranker import threshold_for_precision

        open_rows = [(row, best) for row, best in chosen if row.status == Status.UNMAPPED]
        bar = threshold_for_precision([best["score"] for _, best in open_rows], bulk.expected_precision)
        chosen = [] if bar is None else [(row, best) for row, best in chosen if best["score"] >= bar]
    return chosen


@router.get("/projects/{project_id}/history", summary="The project's audit trail (JSON or CSV)")
def project_history(
    store: Store, member: Member, format: Annotated[str, Query(pattern="^(json|csv)$")] = "json"
) -> Any:
    found = curation.visible_history(store, member.project, member.actor)
    if format == "csv":
        return PlainTextResponse(
            curation.history_csv(found),
            media_type="text/csv; charset=utf-8",
            headers={
                "Content-Disposition": f'attachment; filename="project-{member.project.id}-history.csv"'
            },
        )
    return found


@router.get("/projects/{project_id}/targets", summary="Search the target system to pick a target")
def search_targets(
    store: Store,
    member: Member,
    q: Annotated[str, Query(min_length=1, max_length=200)],
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
) -> list[dict[str, Any]]:
    system = _system(store, member.project.target_system_id)
    return [
        {"code": concept.code, "display": concept.display, "active": concept.active}
        for concept in store.concepts(system, search=q, limit=limit, offset=0)
    ]


@router.get("/projects/{project_id}/export", summary="Current decisions as SSSOM TSV or CSV")
def export_decisions(
    store: Store, member: Member, format: Annotated[str, Query(pattern="^(sssom|csv)$")] = "sssom"
) -> PlainTextResponse:
    from terminology.exporters.sssom import write_decisions_sssom

    project = member.project
    source, target = _system(store, project.source_system_id), _system(store, project.target_system_id)
    page, _ = curation.list_rows(
        store,
        project,
        curation.RowQuery(
            status=(Status.ACCEPTED, Status.REJECTED, Status.IN_REVIEW, Status.DRAFT), limit=10**7
        ),
    )
    rows = [row for row, _ in page]
    labels = store.labels_frame(target)
    displays = dict(
        zip(
            labels.filter(labels["use"] == "display").get_column("code").to_list(),
            labels.filter(labels["use"] == "display").get_column("label").to_list(),
            strict=True,
        )
    )
    out = io.StringIO()
    if format == "sssom":
        write_decisions_sssom(
            rows, displays, source, target, out, mapping_set_id=f"urn:concordance:project:{project.id}"
        )
        return PlainTextResponse(out.getvalue(), media_type="text/tab-separated-values; charset=utf-8")
    writer = csv.writer(out, lineterminator="\r\n")  # RFC 4180: a CR or LF in a cell is quoted
    writer.writerow(CSV_COLUMNS)
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
    return PlainTextResponse(out.getvalue(), media_type="text/csv; charset=utf-8")


@router.get(
    "/conceptmaps/{old_id}/diff/{new_id}",
    summary="What changed between two published ConceptMap versions (public, like the maps)",
)
def diff_concept_maps(store: Store, old_id: DatabaseId, new_id: DatabaseId) -> dict[str, Any]:
    from terminology.publication.diff import diff_maps
    from terminology.storage import conceptmaps

    old, new = conceptmaps.get_concept_map(store, old_id), conceptmaps.get_concept_map(store, new_id)
    changes = diff_maps(old.resource, new.resource)
    return {
        "from": f"{old.url}|{old.version}",
        "to": f"{new.url}|{new.version}",
        "counts": {kind: sum(c.kind == kind for c in changes) for kind in ("added", "removed", "changed")},
        "changes": [change.model_dump() for change in changes],
    }


@router.post(
    "/projects/{project_id}/publish", summary="Publish the accepted decisions as a new ConceptMap version"
)
def publish_project(
    store: Store,
    member: Member,
    status: Annotated[str, Query(pattern="^(draft|active)$")] = "active",
) -> dict[str, Any]:
    from terminology.publication.publish import publish

    member.require(Role.REVIEWER)
    stored = publish(store, member.project, status=status, publisher=f"Concordance ({member.actor.name})")
    elements = sum(len(group.get("element", [])) for group in stored.resource.get("group", []))
    return {
        "id": stored.id,
        "url": stored.url,
        "version": stored.version,
        "status": stored.status,
        "elements": elements,
        "fhir": f"/fhir/ConceptMap/{stored.id}",
    }


@router.post(
    "/projects/{project_id}/retrain",
    summary="Fit the project's model on its accepted decisions and re-rank its candidates (reviewer)",
)
def retrain_project(store: Store, member: Member) -> dict[str, Any]:
    """Matching runs again with the versions, rules and memory of the project's last match;
    decisions stay, candidates change. Runs in the worker's thread pool: it takes as long
    as a match does (seconds for thousands of rows, under a minute for CIM-11)."""
    from terminology.matching.learning import retrain_project as retrain

    member.require(Role.REVIEWER)
    report, _ = retrain(store, member.project.id)
    return {
        "decisions": report.decisions,
        "candidates": report.candidates,
        "sources": report.sources,
        "model": report.model,
    }
