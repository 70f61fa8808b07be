"""Curation routes under ``/api``: projects, work queues, decisions, history, exports.

Each route parses its input, calls one service function (:mod:`terminology.services`:
``projects``, ``users``, ``queue``, ``decisions``, ``decision_imports``, ``audit``) and
renders what it returns. Every write carries the row version it was computed from
(``If-Match``); a stale one gets 412 with the current row, never an overwrite.
"""

from __future__ import annotations

from pathlib import PurePath
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Header, Query, Request, Response
from fastapi import Path as PathParam
from fastapi.responses import PlainTextResponse
from starlette.concurrency import run_in_threadpool

from api.deps import LARGEST_ID, Caller, DatabaseId, Member, Membership, Store
from api.problems import PreconditionRequiredError
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
from api.urls import public_url
from terminology.backends import Backends
from terminology.errors import SourceFileError
from terminology.exporters.decision_tables import history_csv
from terminology.records import Event, Project, RetrainJob, RowQuery
from terminology.review.context import QueueSort
from terminology.review.decision_files import DecisionFormat
from terminology.review.vocabulary import vocabulary
from terminology.review.workflow import PRINTABLE, Actor, MappingRow, Role, Status, project_actions
from terminology.services import audit, concept_maps, decision_imports, decisions, projects, queue, retraining
from terminology.services import users as members
from terminology.services.matching import retrain_due

router = APIRouter(tags=["curation"])


def _project_public(store: Backends, member: Membership) -> ProjectPublic:
    project = member.project
    counts, covered = queue.progress(store, project)
    return ProjectPublic(
        id=project.id,
        name=project.name,
        review=project.review,
        source=store.code_system_by_id(project.source_system_id).reference,
        target=store.code_system_by_id(project.target_system_id).reference,
        role=member.actor.role.value,
        counts=counts,
        frequency_covered=covered,
        user=member.actor.name,
        allowed_actions=project_actions(member.actor.role),
        building=project.building,
    )


@router.get("/vocabulary", summary="The codes the review page shows, in French and English")
def review_vocabulary() -> dict[str, Any]:
    return vocabulary()


@router.get("/projects", summary="The mapping projects you are a member of")
def list_projects(store: Store, user: Caller) -> list[ProjectPublic]:
    found = []
    for project, role in projects.projects_of(store, user):
        assert role is not None
        found.append(_project_public(store, Membership(project, Actor(name=user.name, role=role))))
    return found


@router.get("/projects/{project_id}", summary="A project, your role in it and its progress")
def get_project(store: Store, member: Member) -> ProjectPublic:
    return _project_public(store, member)


@router.patch("/projects/{project_id}", summary="Switch single / blind double review (admin)")
def patch_project(store: Store, member: Member, patch: ProjectPatch) -> ProjectPublic:
    member.require(Role.ADMIN)
    updated = projects.set_review_mode(store, member.project, patch.review)
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
    members.remove_member(store, member.project, user_name)
    return Response(status_code=204)


@router.post("/users/me/revoke", summary="Revoke your own token (e.g. leaked)", status_code=204)
def revoke_own_token(store: Store, user: Caller) -> Response:
    members.revoke_user(store, user.name)
    return Response(status_code=204)


def queue_query(
    member: Member,
    status: Annotated[list[Status] | None, Query()] = None,
    assignee: Annotated[str | None, Query(max_length=128)] = None,
    unassigned: bool = False,
    mine: bool = False,
    flagged: bool | None = None,
    commented: bool | None = None,
    method: Annotated[
        str | None, Query(max_length=32, description="The best candidate's method; 'none' for rows without")
    ] = None,
    within: Annotated[
        str | None, Query(max_length=256, description="Only rows at or below this source concept")
    ] = None,
    min_score: Annotated[float | None, Query(ge=0, le=1)] = None,
    max_score: Annotated[float | None, Query(ge=0, le=1)] = None,
    q: Annotated[str | None, Query(max_length=200, description="Text in the source code or label")] = None,
    sort: QueueSort = "source_code",
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Annotated[int, Query(ge=0, le=LARGEST_ID)] = 0,
) -> RowQuery:
    """A work queue's filters, order and page, as the rows and position routes read them."""
    return RowQuery(
        status=tuple(status or ()),
        assignee=member.actor.name if mine else "" if unassigned else assignee,
        flagged=flagged,
        commented=commented,
        method="" if method == "none" else method,
        within=within,
        min_score=min_score,
        max_score=max_score,
        text=q,
        sort=sort,
        limit=limit,
        offset=offset,
    )


QueueQuery = Annotated[RowQuery, Depends(queue_query)]


@router.get("/projects/{project_id}/rows", summary="A work queue: filtered, sorted, paginated rows")
def list_rows(store: Store, member: Member, query: QueueQuery) -> RowPage:
    page = queue.queue_page(store, member.project, query)
    return RowPage(
        total=page.total,
        offset=query.offset,
        limit=query.limit,
        items=[RowPublic.of(row, best) for row, best in page.rows],
        counts=page.counts,
    )


@router.get(
    "/projects/{project_id}/position",
    summary="Where a row stands in a filtered, sorted queue (null when the filters leave it out)",
)
def row_position(
    store: Store, member: Member, query: QueueQuery, code: Annotated[str, Query(min_length=1, max_length=256)]
) -> dict[str, Any]:
    return {"code": code, "position": queue.queue_position(store, member.project, query, code)}


@router.get(
    "/projects/{project_id}/concepts/{side}/{code:path}",
    summary="A source or target concept with its path to the root, siblings and children",
)
def concept_neighbourhood(
    store: Store, member: Member, side: Literal["source", "target"], code: str
) -> dict[str, Any]:
    return queue.neighbourhood(store, member.project, side, code)


@router.get("/projects/{project_id}/progress", summary="Progress overall, per curator and per chapter")
def project_progress(store: Store, member: Member) -> queue.Progress:
    return queue.progress_report(store, member.project)


@router.get("/projects/{project_id}/members", summary="The project's members and their roles")
def project_members(store: Store, member: Member) -> list[dict[str, str]]:
    return [{"name": name, "role": role.value} for name, role in members.members_of(store, member.project)]


def _detail(store: Backends, member: Membership, row: MappingRow) -> RowDetail:
    view = queue.row_view(store, member.project, member.actor, row)
    return RowDetail(
        row=RowPublic.of(view.row),
        source=view.source,
        candidates=[CandidatePublic(**candidate) for candidate in view.candidates],
        chosen=[ChosenTarget(**chosen.model_dump()) for chosen in view.chosen],
        allowed_actions=list(view.allowed_actions),
        answers=[AnswerPublic(**answer.model_dump()) for answer in view.answers],
    )


@router.get("/projects/{project_id}/rows/{source_code:path}/history", summary="A row's audit trail")
def row_history(store: Store, member: Member, source_code: str) -> list[Event]:
    return audit.visible_history(store, member.project, member.actor, source_code)


@router.get("/projects/{project_id}/rows/{source_code:path}", summary="A row with its context and candidates")
def get_row(store: Store, member: Member, source_code: str, response: Response) -> RowDetail:
    row = queue.find_row(store, member.project, source_code)
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
    if_match: Annotated[str | None, Header()] = None,
) -> RowDetail:
    saved = decisions.decide_row(
        store,
        member.project,
        member.actor,
        source_code,
        decisions.RowDecision(**decision.model_dump()),
        expected_version=_expected_version(if_match),
        longest_comment=_longest_comment(request),
    )
    _learn_when_due(store, member.project, request)
    response.headers["ETag"] = RowPublic.etag_of(saved)
    return _detail(store, member, saved)


@router.post(
    "/projects/{project_id}/rows/{source_code:path}/undo",
    summary="Undo the row's last change (yours, or any for an admin; needs If-Match)",
)
def post_undo(
    store: Store,
    member: Member,
    source_code: str,
    response: Response,
    if_match: Annotated[str | None, Header()] = None,
) -> RowDetail:
    saved = decisions.undo_last(
        store, member.project, member.actor, source_code, expected_version=_expected_version(if_match)
    )
    response.headers["ETag"] = RowPublic.etag_of(saved)
    return _detail(store, member, saved)


def _learn_when_due(store: Backends, project: Project, request: Request) -> None:
    """Every ``CONCORDANCE_RETRAIN_EVERY`` accepted rows, the project's model is refitted and
    its candidates re-ranked, as a job like an asked-for refit (one per project across every
    worker, in a child process): this request does not wait for it."""
    if not retrain_due(store, project, request.app.state.retrain_every):
        return
    settings = request.app.state.settings
    job, new = retraining.claim_retrain(
        store, project, AUTO_LEARNER, stale_after=settings.retrain_stale_seconds
    )
    if new:
        request.app.state.retrainer.start(job)


AUTO_LEARNER = Actor(name="concordance:retrain-every", role=Role.ADMIN)
"""Who asks for the refits ``CONCORDANCE_RETRAIN_EVERY`` triggers (as the jobs record it)."""


@router.post("/projects/{project_id}/bulk-decisions", summary="One decision on many rows, all or nothing")
def post_bulk(
    store: Store,
    member: Member,
    bulk: BulkIn,
    request: Request,
    preview: Annotated[bool, Query(description="Say what would change; write nothing")] = False,
) -> BulkResult:
    """Rows the decision cannot apply to are skipped, each with its reason; the others are
    written in one transaction, so the bulk lands whole or not at all (a row changed by
    someone else meanwhile fails it with 412, and nothing is written). The answer names
    the batch, which ``.../bulk-decisions/{batch}/undo`` takes back as one."""
    outcome = decisions.bulk_decide(
        store,
        member.project,
        member.actor,
        decisions.BulkRequest(**bulk.model_dump()),
        longest_comment=_longest_comment(request),
        preview=preview,
    )
    if not preview:
        _learn_when_due(store, member.project, request)
    return _bulk_result(outcome, preview=preview)


def _bulk_result(outcome: decisions.BulkOutcome, *, preview: bool = False) -> BulkResult:
    return BulkResult(
        applied=list(outcome.applied),
        skipped=[{"source_code": code, "reason": why} for code, why in outcome.skipped],
        batch=outcome.batch,
        preview=preview,
        sample=list(outcome.sample),
    )


@router.post(
    "/projects/{project_id}/bulk-decisions/{batch}/undo",
    summary="Undo a bulk decision as one (all its rows, or none if any changed since)",
)
def undo_bulk(
    store: Store, member: Member, batch: Annotated[str, PathParam(pattern="^[0-9a-f]{32}$")]
) -> BulkResult:
    return _bulk_result(decisions.undo_batch(store, member.project, member.actor, batch))


@router.get("/projects/{project_id}/history", summary="The project's audit trail (JSON or CSV)")
def project_history(
    store: Store, member: Member, format: Annotated[str, Query(pattern="^(json|csv)$")] = "json"
) -> Any:
    found = audit.visible_history(store, member.project, member.actor)
    if format == "csv":
        return PlainTextResponse(
            history_csv(found),
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
    return queue.search_targets(store, member.project, q, limit=limit)


@router.get("/projects/{project_id}/export", summary="Current decisions as SSSOM TSV or CSV")
def export_decisions(
    store: Store, member: Member, format: Annotated[str, Query(pattern="^(sssom|csv)$")] = "sssom"
) -> PlainTextResponse:
    text = audit.export_decisions(store, member.project, "sssom" if format == "sssom" else "csv")
    kind = "text/tab-separated-values" if format == "sssom" else "text/csv"
    return PlainTextResponse(text, media_type=f"{kind}; charset=utf-8")


@router.get(
    "/conceptmaps/{old_id}/diff/{new_id}",
    summary="What changed between two published ConceptMap versions (public, like the maps)",
)
def diff_concept_maps(store: Store, old_id: DatabaseId, new_id: DatabaseId) -> dict[str, Any]:
    diff = concept_maps.diff_versions(store, old_id, new_id)
    return {
        "from": f"{diff.old.url}|{diff.old.version}",
        "to": f"{diff.new.url}|{diff.new.version}",
        "counts": diff.counts,
        "changes": [change.model_dump() for change in diff.changes],
    }


@router.post(
    "/projects/{project_id}/publish", summary="Publish the accepted decisions as a new ConceptMap version"
)
def publish_project(
    store: Store,
    member: Member,
    status: Annotated[str, Query(pattern="^(draft|active)$")] = "active",
) -> dict[str, Any]:
    member.require(Role.REVIEWER)
    stored = concept_maps.publish_project(
        store, member.project, status=status, publisher=f"Concordance ({member.actor.name})"
    )
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
    "/projects/{project_id}/decision-imports",
    summary="Record validated decisions from a file (CSV, SSSOM, Usagi) as accepted (reviewer)",
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                media: {"schema": {"type": "string"}} for media in ("text/csv", "text/tab-separated-values")
            },
        }
    },
)
async def import_decisions(
    store: Store,
    member: Member,
    request: Request,
    format: Annotated[
        DecisionFormat | None, Query(description="csv, sssom or usagi (default: sniffed)")
    ] = None,
    replace: Annotated[bool, Query(description="Overwrite rows curators decided (admin; recorded)")] = False,
    name: Annotated[
        str,
        Query(min_length=1, max_length=128, pattern=PRINTABLE, description="The file's name, for the trail"),
    ] = "upload.csv",
) -> dict[str, Any]:
    """The body is the file (UTF-8, within the body limit). The rows go through the same
    rules as ``concordance decisions import``: the signed-in member vouches as reviewer,
    four eyes against each row's author, decided rows refused unless an admin replaces
    them, a pending blind answer refuses the file, and one bad row (named ``FILE:LINE``)
    imports nothing."""
    member.require(Role.REVIEWER)
    shown = PurePath(name).name or "upload.csv"
    text = _utf8(shown, await request.body())
    count = await run_in_threadpool(
        decision_imports.import_decision_text,
        store,
        member.project,
        member.actor,
        shown,
        text,
        format=format,
        replace=replace,
    )
    return {"imported": count, "file": shown}


def _utf8(name: str, body: bytes) -> str:
    try:
        return body.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise SourceFileError(name, f"not UTF-8 text ({error.reason} at byte {error.start})") from error


@router.post(
    "/projects/{project_id}/retrain",
    status_code=202,
    summary="Refit the project's model on its accepted decisions and re-rank its candidates (reviewer)",
)
def retrain_project(store: Store, member: Member, request: Request, response: Response) -> dict[str, Any]:
    """Starts a refit job and answers 202 at once with it (``Location``: where to follow
    it). Matching runs again with the versions, rules and memory of the project's last match,
    in a child process of its own; decisions stay, candidates change. One refit per project
    runs at a time across every worker: while one runs, this answers 202 with *that* job
    (``already_running``), never a second refit."""
    member.require(Role.REVIEWER)
    settings = request.app.state.settings
    job, new = retraining.claim_retrain(
        store, member.project, member.actor, stale_after=settings.retrain_stale_seconds
    )
    if new:
        request.app.state.retrainer.start(job)
    response.headers["Location"] = public_url(request, f"api/projects/{member.project.id}/retrain/{job.id}")
    return {**_job_public(job), "already_running": not new}


@router.get("/projects/{project_id}/retrain", summary="The project's latest refit job")
def get_latest_retrain_job(store: Store, member: Member) -> dict[str, Any]:
    return _job_public(retraining.latest_retrain_job(store, member.project))


@router.get("/projects/{project_id}/retrain/{job_id}", summary="A refit job: state, progress, outcome")
def get_retrain_job(
    store: Store, member: Member, job_id: Annotated[int, PathParam(ge=1, le=LARGEST_ID)]
) -> dict[str, Any]:
    return _job_public(retraining.retrain_job(store, member.project, job_id))


def _job_public(job: RetrainJob) -> dict[str, Any]:
    result = job.result or {}
    return {
        "job": job.id,
        "state": job.state,
        "requested_by": job.requested_by,
        "started_at": job.started_at.isoformat(timespec="seconds"),
        "finished_at": job.finished_at.isoformat(timespec="seconds") if job.finished_at else None,
        "progress": job.progress,
        "total": job.total,
        "message": job.message,
        "peak_rss_mb": job.peak_rss_mb,
        "decisions": result.get("decisions"),
        "candidates": result.get("candidates"),
        "sources": result.get("sources"),
        "model": result.get("model"),
    }
