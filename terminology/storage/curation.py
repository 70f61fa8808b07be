"""Curation storage: mapping rows, blind answers and the audit trail (users and roles are
:mod:`terminology.storage.users`, projects :mod:`terminology.storage.projects`).

Decisions are computed by :mod:`terminology.review.workflow` as new rows; this
module writes a new row only if the version it was computed from is still the
stored one (optimistic concurrency), together with its audit event, in one
transaction. Nothing is ever overwritten silently and events are never updated.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any, Literal

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from terminology.models import Candidate
from terminology.records import Change, Event, Project, RowNotFoundError, RowQuery, SortKey, StaleVersionError
from terminology.review.context import SEPARATOR, Placement, decision_margin, encode_ancestors
from terminology.review.double import Answer
from terminology.review.workflow import (
    MappingRow,
    Status,
    Target,
)
from terminology.storage.store import SqlStore, in_chunks, like_literal
from terminology.storage.tables import (
    MappingAnswerRow,
    MappingCandidateRow,
    MappingEventRow,
    MappingProjectRow,
    MappingRowRow,
)
from terminology.text import fold

rows_table = MappingRowRow.__table__  # type: ignore[attr-defined]
answers_table = MappingAnswerRow.__table__  # type: ignore[attr-defined]
events = MappingEventRow.__table__  # type: ignore[attr-defined]
projects = MappingProjectRow.__table__  # type: ignore[attr-defined]
candidates = MappingCandidateRow.__table__  # type: ignore[attr-defined]


def open_rows(connection: Connection, project_id: int, source: Sequence[tuple[str, str | None]]) -> int:
    """An ``unmapped`` row for every source concept that has none yet; decisions already
    made are kept. Returns the number of rows added."""
    existing = set(
        connection.execute(
            sa.select(rows_table.c.source_code).where(rows_table.c.project_id == project_id)
        ).scalars()
    )
    new: list[dict[str, Any]] = [
        {
            "project_id": project_id,
            "source_code": code,
            "source_label": label,
            "status": Status.UNMAPPED.value,
            "targets": [],
            "no_map": False,
            "flagged": False,
            "version": 1,
            "search_text": search_text(code, label),
        }
        for code, label in source
        if code not in existing
    ]
    if new:
        connection.execute(rows_table.insert(), new)
    return len(new)


def set_queue_facts(
    connection: Connection,
    project_id: int,
    found: Sequence[Candidate],
    placed: Mapping[str, Placement],
    frequencies: Mapping[str, float],
) -> None:
    """Write on every row of the project its best candidate's score and method, chapter,
    ancestors and usage, so that queue pages filter and sort without touching candidates."""
    best: dict[str, tuple[float, str]] = {}
    scores: dict[str, list[float]] = {}
    for candidate in found:
        kept = best.get(candidate.source_code)
        if kept is None or candidate.score > kept[0]:
            best[candidate.source_code] = (candidate.score, str(candidate.method))
        scores.setdefault(candidate.source_code, []).append(candidate.score)
    margins = {code: decision_margin(values) for code, values in scores.items()}
    codes = connection.execute(
        sa.select(rows_table.c.source_code).where(rows_table.c.project_id == project_id)
    ).scalars()
    values = []
    for code in codes:
        score, method = best.get(code, (None, None))
        place = placed.get(code)
        values.append(
            {
                "b_code": code,
                "best_score": score,
                "best_method": method,
                "best_margin": margins.get(code),
                "chapter": place.chapter if place else None,
                "ancestors": encode_ancestors(place.ancestors) if place else None,
                "frequency": frequencies.get(code),
            }
        )
    if values:
        connection.execute(
            rows_table.update()
            .where(rows_table.c.project_id == project_id, rows_table.c.source_code == sa.bindparam("b_code"))
            .values(
                best_score=sa.bindparam("best_score"),
                best_method=sa.bindparam("best_method"),
                best_margin=sa.bindparam("best_margin"),
                chapter=sa.bindparam("chapter"),
                ancestors=sa.bindparam("ancestors"),
                frequency=sa.bindparam("frequency"),
            ),
            values,
        )


def search_text(code: str, label: str | None) -> str:
    """What the queue's search matches: code and label folded, cut to an index key's size."""
    return fold(f"{code} {label or ''}")[:SEARCH_TEXT_CHARS]


SEARCH_TEXT_CHARS = 500


def _to_row(record: Any) -> MappingRow:
    return MappingRow(
        project_id=record.project_id,
        source_code=record.source_code,
        source_label=record.source_label,
        status=Status(record.status),
        targets=tuple(Target(**target) for target in record.targets or []),
        no_map=record.no_map,
        comment=record.comment,
        flagged=record.flagged,
        flag_reason=record.flag_reason,
        assignee=record.assignee,
        author=record.author,
        authors=tuple(record.authors or ()),
        reviewer=record.reviewer,
        version=record.version,
        updated_at=record.updated_at,
        updated_by=record.updated_by,
    )


def _values(row: MappingRow) -> dict[str, Any]:
    return {
        "status": row.status.value,
        "targets": [target.model_dump() for target in row.targets],
        "no_map": row.no_map,
        "comment": row.comment,
        "flagged": row.flagged,
        "flag_reason": row.flag_reason,
        "assignee": row.assignee,
        "author": row.author,
        "authors": list(row.authors),
        "reviewer": row.reviewer,
        "version": row.version,
        "updated_at": row.updated_at,
        "updated_by": row.updated_by,
    }


def _audit(row: MappingRow) -> dict[str, Any]:
    values = _values(row)
    values["updated_at"] = row.updated_at.isoformat() if row.updated_at else None
    return values


def row_from_audit(row: MappingRow, audited: dict[str, Any]) -> MappingRow:
    """``row`` with the decision an audit event recorded (what undo puts back)."""
    return row.model_copy(
        update={
            "status": Status(audited["status"]),
            "targets": tuple(Target(**target) for target in audited.get("targets") or []),
            "no_map": bool(audited.get("no_map")),
            "comment": audited.get("comment"),
            "flagged": bool(audited.get("flagged")),
            "flag_reason": audited.get("flag_reason"),
            "assignee": audited.get("assignee"),
            "author": audited.get("author"),
            "authors": tuple(audited.get("authors") or ()),
            "reviewer": audited.get("reviewer"),
        }
    )


def get_row(store: SqlStore, project: Project, source_code: str) -> MappingRow:
    with store.engine.connect() as connection:
        return _row_in(connection, project.id, source_code)


def _row_in(connection: Connection, project_id: int, source_code: str) -> MappingRow:
    record = connection.execute(
        sa.select(rows_table).where(
            rows_table.c.project_id == project_id, rows_table.c.source_code == source_code
        )
    ).first()
    if record is None:
        raise RowNotFoundError(f"no row {source_code!r} in project {project_id}")
    return _to_row(record)


def _conditions(store: SqlStore, project: Project, query: RowQuery) -> list[Any]:
    """The WHERE of a queue: every filter reads the row alone (no join)."""
    r = rows_table.c
    conditions: list[Any] = [r.project_id == project.id]
    if query.status:
        conditions.append(r.status.in_([status.value for status in query.status]))
    if query.assignee == "":
        conditions.append(r.assignee.is_(None))
    elif query.assignee is not None:
        conditions.append(r.assignee == query.assignee)
    if query.flagged is not None:
        conditions.append(r.flagged == query.flagged)
    if query.min_score is not None:
        conditions.append(r.best_score >= query.min_score)
    if query.max_score is not None:
        conditions.append(r.best_score <= query.max_score)
    if query.method == "":
        conditions.append(r.best_method.is_(None))
    elif query.method is not None:
        conditions.append(r.best_method == query.method)
    if query.commented is not None:
        has_comment = sa.and_(r.comment.is_not(None), r.comment != "")
        conditions.append(has_comment if query.commented else sa.not_(has_comment))
    if query.within is not None:
        inside = f"%{like_literal(SEPARATOR + query.within + SEPARATOR)}%"
        conditions.append(sa.or_(r.source_code == query.within, r.ancestors.like(inside, escape="\\")))
    if query.codes:
        conditions.append(r.source_code.in_(list(query.codes)))
    if query.code_from is not None:
        conditions.append(r.source_code >= query.code_from)
    if query.code_to is not None:
        conditions.append(r.source_code <= query.code_to)
    if query.text:
        conditions.append(r.search_text.like(f"%{like_literal(fold(query.text))}%", escape="\\"))
    return conditions


def _order(sort: SortKey) -> list[Any]:
    """A total order (ties broken by code), so pages neither repeat nor skip rows."""
    r = rows_table.c
    if sort == "useful":
        decided = sa.case((r.status == Status.UNMAPPED.value, 0), else_=1)
        return [decided.asc(), r.best_margin.asc().nulls_last(), r.source_code]
    column = {
        "source_code": r.source_code,
        "score": r.best_score,
        "updated_at": r.updated_at,
        "frequency": r.frequency,
    }[sort.lstrip("-")]
    if column is r.source_code:
        return [column.desc() if sort.startswith("-") else column.asc()]
    return [column.desc().nulls_last() if sort.startswith("-") else column.asc().nulls_first(), r.source_code]


def list_rows(
    store: SqlStore, project: Project, query: RowQuery, *, count: bool = True
) -> tuple[list[tuple[MappingRow, float | None]], int]:
    """A page of rows with their best candidate score, and how many rows match in all
    (-1 without ``count``, for a caller that counts them otherwise)."""
    conditions = _conditions(store, project, query)
    select = (
        sa.select(rows_table)
        .where(*conditions)
        .order_by(*_order(query.sort))
        .limit(query.limit)
        .offset(query.offset)
    )
    counting = sa.select(sa.func.count()).select_from(rows_table).where(*conditions)
    with store.engine.connect() as connection:
        page = [(_to_row(record), record.best_score) for record in connection.execute(select)]
        total = connection.execute(counting).scalar_one() if count else -1
    return page, total


def row_position(store: SqlStore, project: Project, query: RowQuery, source_code: str) -> int | None:
    """Where ``source_code`` stands (0-based) in the queue ``query`` describes, or None when
    the filters leave it out: what a deep link to a row scrolls the list to."""
    numbered = (
        sa.select(
            rows_table.c.source_code,
            sa.func.row_number().over(order_by=_order(query.sort)).label("position"),
        )
        .where(*_conditions(store, project, query))
        .subquery()
    )
    with store.engine.connect() as connection:
        found = connection.execute(
            sa.select(numbered.c.position).where(numbered.c.source_code == source_code)
        ).scalar()
    return None if found is None else int(found) - 1


def filtered_counts(store: SqlStore, project: Project, query: RowQuery) -> dict[str, int]:
    """Rows per status among those the query's filters keep (its status filter aside)."""
    unfiltered = replace(query, status=())
    with store.engine.connect() as connection:
        counted = connection.execute(
            sa.select(rows_table.c.status, sa.func.count())
            .where(*_conditions(store, project, unfiltered))
            .group_by(rows_table.c.status)
        ).all()
    return {status: number for status, number in counted}


def usage_covered(store: SqlStore, project: Project) -> float | None:
    """Share of the rows' usage (their ``frequency``) that accepted rows carry; None when
    no row has a frequency."""
    r = rows_table.c
    accepted = sa.case((r.status == Status.ACCEPTED.value, r.frequency), else_=0.0)
    with store.engine.connect() as connection:
        total, covered = connection.execute(
            sa.select(sa.func.sum(r.frequency), sa.func.sum(accepted)).where(r.project_id == project.id)
        ).one()
    return None if not total or total <= 0 else float(covered or 0.0) / float(total)


def breakdown(
    store: SqlStore, project: Project, column: Literal["chapter", "author", "assignee"]
) -> list[Any]:
    """(value, status, rows) for every value of ``column``: progress per chapter or curator."""
    grouped = getattr(rows_table.c, column)
    with store.engine.connect() as connection:
        return list(
            connection.execute(
                sa.select(grouped, rows_table.c.status, sa.func.count())
                .where(rows_table.c.project_id == project.id)
                .group_by(grouped, rows_table.c.status)
            ).all()
        )


def status_counts(store: SqlStore, project: Project) -> dict[str, int]:
    """Rows per status, and flagged rows (one read of a covering index)."""
    with store.engine.connect() as connection:
        counted = connection.execute(
            sa.select(rows_table.c.status, rows_table.c.flagged, sa.func.count())
            .where(rows_table.c.project_id == project.id)
            .group_by(rows_table.c.status, rows_table.c.flagged)
        ).all()
    counts = {status.value: 0 for status in Status}
    counts["flagged"] = 0
    for status, flagged, number in counted:
        counts[status] = counts.get(status, 0) + number
        if flagged:
            counts["flagged"] += number
    return counts


def _update_row(connection: Connection, before: MappingRow, after: MappingRow) -> None:
    """Write ``after`` only if the stored row is still at ``before``'s version."""
    written = connection.execute(
        rows_table.update()
        .where(
            rows_table.c.project_id == before.project_id,
            rows_table.c.source_code == before.source_code,
            rows_table.c.version == before.version,
        )
        .values(**_values(after))
    ).rowcount
    if written != 1:
        raise StaleVersionError(_row_in(connection, before.project_id, before.source_code))


def _record_event(
    connection: Connection,
    before: MappingRow,
    after: MappingRow,
    *,
    action: str,
    comment: str | None,
    extra: dict[str, Any] | None = None,
    batch: str | None = None,
) -> None:
    """The audit event of a change: who, when, from what, to what, why."""
    connection.execute(
        events.insert().values(
            project_id=before.project_id,
            source_code=before.source_code,
            at=after.updated_at or datetime.now(UTC),
            actor=after.updated_by or "",
            action=action,
            before=_audit(before),
            after={**(extra or {}), **_audit(after)},
            comment=comment,
            batch=batch,
        )
    )


def save_decision(
    store: SqlStore,
    before: MappingRow,
    after: MappingRow,
    *,
    action: str,
    comment: str | None = None,
    answer: Answer | None = None,
) -> MappingRow:
    """Write ``after`` if the stored row is still ``before`` (same version), with its audit
    event and, in double review, the author's answer; otherwise :class:`StaleVersionError`."""
    save_decisions(store, [Change(before, after, action, comment, answer)])
    return after


def save_decisions(store: SqlStore, changes: Sequence[Change]) -> None:
    """Write every change in one transaction: all land, or (a row changed meanwhile, the
    process died) none does — a bulk decision is never left half applied."""
    with store.engine.begin() as connection:
        for change in changes:
            _write_change(connection, change)


def _write_change(connection: Connection, change: Change) -> None:
    before, after, answer = change.before, change.after, change.answer
    _update_row(connection, before, after)
    if answer is not None:
        connection.execute(
            answers_table.delete().where(
                answers_table.c.project_id == before.project_id,
                answers_table.c.source_code == before.source_code,
                answers_table.c.author == answer.author,
            )
        )
        connection.execute(
            answers_table.insert().values(
                project_id=before.project_id,
                source_code=before.source_code,
                author=answer.author,
                targets=[target.model_dump() for target in answer.targets],
                no_map=answer.no_map,
                comment=answer.comment,
                answered_at=after.updated_at or datetime.now(UTC),
            )
        )
    audited: dict[str, Any] = {} if answer is None else {"answer": answer.model_dump(mode="json")}
    if change.undoes is not None:
        audited["undoes"] = change.undoes
    _record_event(
        connection,
        before,
        after,
        action=change.action,
        comment=change.comment,
        extra=audited,
        batch=change.batch,
    )


def answered_codes(store: SqlStore, project: Project) -> set[str]:
    """Source codes with at least one blind answer recorded."""
    with store.engine.connect() as connection:
        return set(
            connection.execute(
                sa.select(answers_table.c.source_code)
                .where(answers_table.c.project_id == project.id)
                .distinct()
            ).scalars()
        )


def answers_for(store: SqlStore, project: Project, source_code: str) -> tuple[Answer, ...]:
    with store.engine.connect() as connection:
        records = connection.execute(
            sa.select(answers_table)
            .where(answers_table.c.project_id == project.id, answers_table.c.source_code == source_code)
            .order_by(answers_table.c.answered_at)
        ).all()
    return tuple(
        Answer(
            author=record.author,
            targets=tuple(Target(**target) for target in record.targets),
            no_map=record.no_map,
            comment=record.comment,
        )
        for record in records
    )


def project_answers(store: SqlStore, project: Project) -> list[tuple[str, Answer, datetime]]:
    """Every blind answer of the project with when it was given, by source code then time."""
    with store.engine.connect() as connection:
        records = connection.execute(
            sa.select(answers_table)
            .where(answers_table.c.project_id == project.id)
            .order_by(answers_table.c.source_code, answers_table.c.answered_at)
        ).all()
    return [
        (
            record.source_code,
            Answer(
                author=record.author,
                targets=tuple(Target(**target) for target in record.targets),
                no_map=record.no_map,
                comment=record.comment,
            ),
            datetime.fromisoformat(record.answered_at)
            if isinstance(record.answered_at, str)
            else record.answered_at,
        )
        for record in records
    ]


def history(
    store: SqlStore,
    project: Project,
    source_code: str | None = None,
    *,
    batch: str | None = None,
    newest_only: bool = False,
) -> list[Event]:
    """Events oldest first, of one row, of one bulk batch or of the whole project."""
    order = events.c.id.desc() if newest_only else events.c.id
    query = sa.select(events).where(events.c.project_id == project.id).order_by(order)
    if source_code is not None:
        query = query.where(events.c.source_code == source_code)
    if batch is not None:
        query = query.where(events.c.batch == batch)
    if newest_only:
        query = query.limit(1)
    with store.engine.connect() as connection:
        return [
            Event(
                id=record.id,
                source_code=record.source_code,
                at=record.at,
                actor=record.actor,
                action=record.action,
                before=record.before,
                after=record.after,
                comment=record.comment,
                batch=record.batch,
            )
            for record in connection.execute(query)
        ]


def last_event(store: SqlStore, project: Project, source_code: str) -> Event | None:
    """A row's latest audit event (what "undo" takes back)."""
    found = history(store, project, source_code, newest_only=True)
    return found[0] if found else None


def batch_events(store: SqlStore, project: Project, batch: str) -> list[Event]:
    """The events of one bulk decision."""
    return history(store, project, batch=batch)


def statuses(store: SqlStore, project: Project, codes: set[str]) -> dict[str, Status]:
    """The status of each of ``codes`` (rows of ``project``)."""
    found: dict[str, Status] = {}
    with store.engine.connect() as connection:
        for chunk in in_chunks(codes):
            query = sa.select(rows_table.c.source_code, rows_table.c.status).where(
                rows_table.c.project_id == project.id, rows_table.c.source_code.in_(chunk)
            )
            found.update({code: Status(status) for code, status in connection.execute(query)})
    return found


def get_rows(store: SqlStore, project: Project, codes: Sequence[str]) -> dict[str, MappingRow]:
    """The rows of ``codes`` that exist, by source code (a few queries, whatever the count)."""
    found: dict[str, MappingRow] = {}
    with store.engine.connect() as connection:
        for chunk in in_chunks(codes):
            query = sa.select(rows_table).where(
                rows_table.c.project_id == project.id, rows_table.c.source_code.in_(chunk)
            )
            found.update({record.source_code: _to_row(record) for record in connection.execute(query)})
    return found


def codes_with_status(store: SqlStore, project: Project, status: Status) -> list[str]:
    with store.engine.connect() as connection:
        return list(
            connection.execute(
                sa.select(rows_table.c.source_code).where(
                    rows_table.c.project_id == project.id, rows_table.c.status == status.value
                )
            ).scalars()
        )


def best_candidates(store: SqlStore, project: Project, codes: Sequence[str]) -> dict[str, dict[str, Any]]:
    """The first-ranked candidate of each of ``codes`` that has one."""
    found: dict[str, dict[str, Any]] = {}
    with store.engine.connect() as connection:
        for chunk in in_chunks(codes):
            query = (
                sa.select(candidates)
                .where(candidates.c.project_id == project.id, candidates.c.source_code.in_(chunk))
                .order_by(candidates.c.source_code, candidates.c.rank)
            )
            for record in connection.execute(query):
                found.setdefault(record.source_code, dict(record._mapping))
    return found


def row_candidates(store: SqlStore, project: Project, source_code: str) -> list[dict[str, Any]]:
    with store.engine.connect() as connection:
        return [
            dict(record._mapping)
            for record in connection.execute(
                sa.select(candidates)
                .where(candidates.c.project_id == project.id, candidates.c.source_code == source_code)
                .order_by(candidates.c.rank)
            )
        ]




def write_changes(connection: Connection, changes: Sequence[Change]) -> None:
    """Write ``changes`` inside the caller's transaction (each row checked at its version,
    with its audit event): a new match's flags land with its candidates, or neither does."""
    for change in changes:
        _write_change(connection, change)


def accepted_targets(store: SqlStore, project: Project) -> dict[str, tuple[Target, ...]]:
    """Every accepted row's targets: what the project's model learns from."""
    query = sa.select(rows_table.c.source_code, rows_table.c.targets).where(
        rows_table.c.project_id == project.id,
        rows_table.c.status == Status.ACCEPTED.value,
        rows_table.c.no_map.is_(False),
    )
    with store.engine.connect() as connection:
        return {
            code: tuple(Target(**target) for target in targets or [])
            for code, targets in connection.execute(query)
            if targets
        }
