"""The audit trail as each viewer may read it (blind answers hidden until settled) and the
exports of a project's decisions (SSSOM, CSV)."""

from __future__ import annotations

import io
from dataclasses import replace
from datetime import datetime
from typing import Literal

from terminology.backends import Backends
from terminology.exporters.decision_tables import decisions_csv
from terminology.exporters.sssom import write_decisions_sssom
from terminology.records import Event, Project, RowQuery
from terminology.review.double import Answer, answer_visible, blind_event
from terminology.review.workflow import (
    Actor,
    Status,
)


def visible_history(
    store: Backends, project: Project, viewer: Actor, source_code: str | None = None
) -> list[Event]:
    """The audit trail as ``viewer`` may read it: blind answers stay hidden from everyone
    but their author until both are in, and from viewers until the row is settled
    (:func:`terminology.review.double.answer_visible`)."""
    if source_code is not None:
        store.rows.get_row(project, source_code)  # an unknown row is not found, not empty
    found = store.rows.history(project, source_code)
    answering = {event.source_code for event in found if event.action.startswith("answer-")}
    if not answering:
        return found
    statuses = store.rows.statuses(project, answering)
    shown = []
    for event in found:
        status = statuses.get(event.source_code, Status.UNMAPPED)
        if event.action.startswith("answer-") and not answer_visible(status, viewer, event.actor):
            after, comment = blind_event(event.after, event.comment)
            event = replace(event, after=after, comment=comment)
        shown.append(event)
    return shown


EXPORTED = (Status.ACCEPTED, Status.REJECTED, Status.IN_REVIEW, Status.DRAFT)


def export_decisions(store: Backends, project: Project, format: Literal["sssom", "csv"]) -> str:
    """The project's current decisions (every status but unmapped and conflict) as SSSOM TSV
    or as CSV, one line per target."""
    source = store.code_system_by_id(project.source_system_id)
    target = store.code_system_by_id(project.target_system_id)
    page, _ = store.rows.list_rows(project, RowQuery(status=EXPORTED, limit=10**7))
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
    return decisions_csv(rows, displays)


def full_history(store: Backends, project: Project) -> list[Event]:
    """The whole audit trail, oldest first, for the database's owner (the Python API and the
    command line, which hold the database itself; a curator reads :func:`visible_history`)."""
    return store.rows.history(project)


def blind_answers(store: Backends, project: Project) -> list[tuple[str, Answer, datetime]]:
    """Every blind answer of a double-review project with when it was given, for the
    database's owner studying agreement (a curator sees them through :func:`visible_history`,
    hidden until the row is settled)."""
    return store.rows.project_answers(project)
