"""Blind double mapping: two authors answer without seeing each other; a reconciler settles.

While a row waits for its two answers it stays ``unmapped`` and neither author
sees the other's answer. Two equal answers send the row to ``in_review``; two
different ones to ``conflict``, where a reconciler sees both side by side and
decides (the row is then ``accepted``: the reconciler is its reviewer).
"""

from __future__ import annotations

from datetime import UTC, datetime

from terminology.models import Frozen
from terminology.review.names import same_person
from terminology.review.workflow import (
    RANK,
    Actor,
    Decision,
    InvalidDecision,
    InvalidTransition,
    MappingRow,
    NotAllowed,
    Role,
    Status,
    Target,
    unique_targets,
)

ANSWERS_NEEDED = 2


class Answer(Frozen):
    """One author's blind answer for a row."""

    author: str
    targets: tuple[Target, ...] = ()
    no_map: bool = False
    comment: str | None = None

    def same_as(self, other: Answer) -> bool:
        return self.no_map == other.no_map and set(self.targets) == set(other.targets)


def record_answer(
    row: MappingRow,
    answers: tuple[Answer, ...],
    decision: Decision,
    actor: Actor,
    *,
    now: datetime | None = None,
) -> tuple[MappingRow, Answer]:
    """The row and the actor's answer after a blind ``map`` / ``no_map``.

    >>> row = MappingRow(project_id=1, source_code="A")
    >>> ana, rui = Actor(name="ana", role=Role.AUTHOR), Actor(name="rui", role=Role.AUTHOR)
    >>> first = Decision(action="map", targets=(Target(code="X"),))
    >>> row, a = record_answer(row, (), first, ana)
    >>> row.status.value
    'unmapped'
    >>> row, b = record_answer(row, (a,), Decision(action="map", targets=(Target(code="Y"),)), rui)
    >>> row.status.value
    'conflict'
    """
    if RANK[actor.role] < RANK[Role.AUTHOR]:
        raise NotAllowed(f"{decision.action} needs the role author; {actor.name} is {actor.role.value}")
    if decision.action not in ("map", "no_map"):
        raise InvalidDecision(f"in double review an author answers with map or no_map, not {decision.action}")
    if row.status != Status.UNMAPPED:
        raise InvalidTransition(f"{row.source_code} is {row.status.value}: both answers are in")
    if decision.action == "map" and not decision.targets:
        raise InvalidDecision("map needs at least one target")
    answer = Answer(
        author=actor.name,
        targets=unique_targets(decision.targets) if decision.action == "map" else (),
        no_map=decision.action == "no_map",
        comment=decision.comment,
    )
    others = tuple(other for other in answers if not same_person(other.author, actor.name))
    changes: dict[str, object] = {
        "version": row.version + 1,
        "updated_at": now or datetime.now(UTC),
        "updated_by": actor.name,
    }
    if len(others) + 1 >= ANSWERS_NEEDED:
        first = others[0]
        if first.same_as(answer):
            changes.update(
                status=Status.IN_REVIEW,
                targets=answer.targets,
                no_map=answer.no_map,
                author=f"{first.author}+{answer.author}",
                authors=(first.author, answer.author),
            )
        else:
            changes["status"] = Status.CONFLICT
    return row.model_copy(update=changes), answer


def reconcile(
    row: MappingRow, decision: Decision, actor: Actor, *, now: datetime | None = None
) -> MappingRow:
    """The conflict settled by a reconciler's ``map`` / ``no_map``: the row is accepted."""
    if RANK[actor.role] < RANK[Role.RECONCILER]:
        raise NotAllowed(f"reconcile needs the role reconciler; {actor.name} is {actor.role.value}")
    if row.status != Status.CONFLICT:
        raise InvalidTransition(f"cannot reconcile {row.source_code}: it is {row.status.value}, not conflict")
    if decision.action not in ("map", "no_map") or (decision.action == "map" and not decision.targets):
        raise InvalidDecision("reconcile with map (and its targets) or no_map")
    return row.model_copy(
        update={
            "status": Status.ACCEPTED,
            "targets": unique_targets(decision.targets) if decision.action == "map" else (),
            "no_map": decision.action == "no_map",
            "reviewer": actor.name,
            "comment": decision.comment if decision.comment is not None else row.comment,
            "version": row.version + 1,
            "updated_at": now or datetime.now(UTC),
            "updated_by": actor.name,
        }
    )


HIDDEN = "hidden until both answers are in"


def answer_visible(status: Status, viewer: Actor, author: str) -> bool:
    """May ``viewer`` see ``author``'s blind answer on a row now at ``status``? Its author
    always; anyone else once both answers are in; viewers only once the row is settled
    (not waiting, not in conflict).

    >>> ana, rui = Actor(name="ana", role=Role.AUTHOR), Actor(name="rui", role=Role.ADMIN)
    >>> answer_visible(Status.UNMAPPED, ana, "ana"), answer_visible(Status.UNMAPPED, rui, "ana")
    (True, False)
    >>> answer_visible(Status.CONFLICT, Actor(name="v", role=Role.VIEWER), "ana")
    False
    """
    if viewer.name == author:
        return True
    if status == Status.UNMAPPED:
        return False
    return viewer.role != Role.VIEWER or status != Status.CONFLICT


def blind_event(
    after: dict[str, object] | None, comment: str | None
) -> tuple[dict[str, object] | None, str | None]:
    """An answer event as shown to someone who may not see the answer yet: that an author
    answered stays visible (the row's version moved), what they answered and why does not."""
    shown = dict(after or {})
    shown["answer"] = HIDDEN
    return shown, None
