"""The curation workflow: statuses, roles, and decisions as pure functions.

Each source concept of a mapping project has one :class:`MappingRow`. A
decision never mutates a row: :func:`decide` checks who may do what from which
status and returns the new row (version + 1), so the storage layer only has to
write it if nobody else wrote first. Statuses follow Snap2SNOMED / Usagi
practice::

    unmapped ──map / no-map──▶ draft ──submit──▶ in_review ──accept──▶ accepted
        ▲                        ▲  ◀──reject── (rejected) ◀──reject──┘    │
        └────────── reopen ──────┴──────────────── reopen ─────────────────┘

"No map" is an explicit decision (``no_map``), not an absence. ``flag`` marks a
row as needing attention without changing its status. In blind double review,
two authors answer separately; differing answers put the row in ``conflict``
until a reconciler chooses (:mod:`terminology.review.double`).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from enum import StrEnum
from typing import Literal

from pydantic import Field

from terminology.errors import ConcordanceError
from terminology.models import Frozen
from terminology.review.names import same_person


class Status(StrEnum):
    UNMAPPED = "unmapped"
    DRAFT = "draft"
    IN_REVIEW = "in_review"
    ACCEPTED = "accepted"
    REJECTED = "rejected"
    CONFLICT = "conflict"


class Role(StrEnum):
    """Roles per project; each role includes the powers of the ones before it, except
    that only reconcilers (and admins) settle double-review conflicts."""

    VIEWER = "viewer"
    AUTHOR = "author"
    REVIEWER = "reviewer"
    RECONCILER = "reconciler"
    ADMIN = "admin"


RANK = {Role.VIEWER: 0, Role.AUTHOR: 1, Role.REVIEWER: 2, Role.RECONCILER: 3, Role.ADMIN: 4}

Equivalence = Literal[
    "relatedto", "equivalent", "equal", "wider", "subsumes", "narrower", "specializes", "inexact",
    "unmatched", "disjoint",
]  # fmt: skip
"""FHIR R4 ConceptMap equivalence codes."""


PRINTABLE = r"^[^\x00-\x1f\x7f]+$"
"""Codes and names carry no control characters (NUL, newlines, terminal escapes)."""


class Target(Frozen):
    """A chosen target concept (one-to-many maps carry several)."""

    code: str = Field(min_length=1, max_length=256, pattern=PRINTABLE)
    equivalence: Equivalence = "equivalent"


class MappingRow(Frozen):
    """A source concept's current mapping decision in a project."""

    project_id: int
    source_code: str
    source_label: str | None = None
    status: Status = Status.UNMAPPED
    targets: tuple[Target, ...] = ()
    no_map: bool = False
    comment: str | None = None
    flagged: bool = False
    flag_reason: str | None = None
    assignee: str | None = None
    author: str | None = None
    """Who (or which matching method) made the decision, as shown."""
    authors: tuple[str, ...] = ()
    """The people who made it: one, or both authors of an agreed blind double review. None
    of them may accept it (four eyes)."""
    reviewer: str | None = None
    version: int = 1
    updated_at: datetime | None = None
    updated_by: str | None = None


class Actor(Frozen):
    """Who acts, with their role in the row's project."""

    name: str
    role: Role


Action = Literal[
    "map", "no_map", "submit", "accept", "reject", "reopen", "flag", "unflag", "assign", "comment"
]


class Decision(Frozen):
    """What a curator asks for. ``targets`` for ``map``; ``assignee`` for ``assign``;
    ``comment`` may come with any action (a reason for ``reject`` and ``flag``)."""

    action: Action
    targets: tuple[Target, ...] = ()
    assignee: str | None = Field(default=None, min_length=1, max_length=128, pattern=PRINTABLE)
    comment: str | None = None


class CurationError(ConcordanceError):
    """A decision that cannot be applied; ``code`` is stable for API clients."""

    code = "curation-error"
    http_status = 422
    fhir_issue = "business-rule"


class InvalidTransition(CurationError):
    code = "invalid-transition"
    http_status = 409
    fhir_issue = "business-rule"


class NotAllowed(CurationError):
    code = "forbidden"
    http_status = 403
    fhir_issue = "forbidden"


class InvalidDecision(CurationError):
    code = "invalid-decision"
    http_status = 422
    fhir_issue = "invalid"


class Rule(Frozen):
    sources: frozenset[Status]
    to: Status | None
    """None keeps the status."""
    role: Role


EDITABLE = frozenset({Status.UNMAPPED, Status.DRAFT, Status.REJECTED})
ANY = frozenset(Status)
RULES: dict[str, Rule] = {
    "map": Rule(sources=EDITABLE, to=Status.DRAFT, role=Role.AUTHOR),
    "no_map": Rule(sources=EDITABLE, to=Status.DRAFT, role=Role.AUTHOR),
    "submit": Rule(sources=frozenset({Status.DRAFT}), to=Status.IN_REVIEW, role=Role.AUTHOR),
    "accept": Rule(sources=frozenset({Status.IN_REVIEW}), to=Status.ACCEPTED, role=Role.REVIEWER),
    "reject": Rule(
        sources=frozenset({Status.IN_REVIEW, Status.ACCEPTED}), to=Status.REJECTED, role=Role.REVIEWER
    ),
    "reopen": Rule(
        sources=frozenset({Status.IN_REVIEW, Status.ACCEPTED, Status.REJECTED}),
        to=Status.DRAFT,
        role=Role.AUTHOR,
    ),
    "flag": Rule(sources=ANY, to=None, role=Role.AUTHOR),
    "unflag": Rule(sources=ANY, to=None, role=Role.AUTHOR),
    "assign": Rule(sources=ANY, to=None, role=Role.REVIEWER),
    "comment": Rule(sources=ANY, to=None, role=Role.AUTHOR),
}
"""Which statuses each action starts from, where it leads, and the least role it needs."""


def allowed_actions(row: MappingRow, role: Role) -> list[str]:
    """The actions ``role`` may take on ``row`` now (what the review page offers).

    >>> allowed_actions(MappingRow(project_id=1, source_code="A"), Role.AUTHOR)
    ['map', 'no_map', 'flag', 'unflag', 'comment']
    """
    return [
        name for name, rule in RULES.items() if row.status in rule.sources and RANK[role] >= RANK[rule.role]
    ]


def _check(row: MappingRow, decision: Decision, actor: Actor) -> Rule:
    rule = RULES[decision.action]
    if RANK[actor.role] < RANK[rule.role]:
        raise NotAllowed(
            f"{decision.action} needs the role {rule.role.value}; {actor.name} is {actor.role.value}"
        )
    if row.status not in rule.sources:
        starts = ", ".join(sorted(status.value for status in rule.sources))
        raise InvalidTransition(
            f"cannot {decision.action} {row.source_code}: it is {row.status.value} (allowed from {starts})"
        )
    if decision.action == "map" and not decision.targets:
        raise InvalidDecision("map needs at least one target")
    if decision.action in ("reject", "flag") and not (decision.comment or "").strip():
        raise InvalidDecision(f"{decision.action} needs a reason (comment)")
    if decision.action == "accept" and authored_by(row, actor.name):
        raise NotAllowed(f"{actor.name} authored {row.source_code}; another reviewer must accept it")
    return rule


PROJECT_ACTIONS = {
    "bulk": Role.REVIEWER,
    "publish": Role.REVIEWER,
    "retrain": Role.REVIEWER,
    "admin": Role.ADMIN,
}
"""What a role may do on a whole project (besides each row's own ``allowed_actions``)."""


def project_actions(role: Role) -> list[str]:
    """The project-wide actions ``role`` may take.

    >>> project_actions(Role.AUTHOR), project_actions(Role.REVIEWER)
    ([], ['bulk', 'publish', 'retrain'])
    """
    return [name for name, needed in PROJECT_ACTIONS.items() if RANK[role] >= RANK[needed]]


def authored_by(row: MappingRow, name: str) -> bool:
    """Whether ``name`` is one of the row's authors (admins included: four eyes hold for all).

    >>> authored_by(MappingRow(project_id=1, source_code="A", author="a+b", authors=("a", "b")), "b")
    True
    """
    return any(same_person(name, author) for author in (*row.authors, row.author))


def decide(row: MappingRow, decision: Decision, actor: Actor, *, now: datetime | None = None) -> MappingRow:
    """The row after ``decision`` by ``actor``, or an error saying why not.

    >>> author, reviewer = Actor(name="ana", role=Role.AUTHOR), Actor(name="rui", role=Role.REVIEWER)
    >>> row = MappingRow(project_id=1, source_code="GLY")
    >>> row = decide(row, Decision(action="map", targets=(Target(code="15074-8"),)), author)
    >>> row = decide(decide(row, Decision(action="submit"), author), Decision(action="accept"), reviewer)
    >>> row.status.value, row.author, row.reviewer, row.version
    ('accepted', 'ana', 'rui', 4)
    """
    rule = _check(row, decision, actor)
    changes: dict[str, object] = {
        "version": row.version + 1,
        "updated_at": now or datetime.now(UTC),
        "updated_by": actor.name,
    }
    if rule.to is not None:
        changes["status"] = rule.to
    if decision.comment is not None and decision.action not in ("flag",):
        changes["comment"] = decision.comment
    match decision.action:
        case "map":
            changes.update(
                targets=unique_targets(decision.targets),
                no_map=False,
                author=actor.name,
                authors=(actor.name,),
                reviewer=None,
            )
        case "no_map":
            changes.update(targets=(), no_map=True, author=actor.name, authors=(actor.name,), reviewer=None)
        case "accept" | "reject":
            changes["reviewer"] = actor.name
        case "reopen":
            changes["reviewer"] = None
        case "flag":
            changes.update(flagged=True, flag_reason=decision.comment)
        case "unflag":
            changes.update(flagged=False, flag_reason=None)
        case "assign":
            changes["assignee"] = decision.assignee
    return row.model_copy(update=changes)


def unique_targets(targets: Iterable[Target]) -> tuple[Target, ...]:
    seen: dict[str, Target] = {}
    for target in targets:
        seen.setdefault(target.code, target)
    return tuple(seen.values())


def why_not_filled(row: MappingRow, actor: Actor, *, answered: bool = False) -> str | None:
    """Why bulk acceptance must leave ``row`` alone, or None when it may fill it: only rows
    no person has decided (nor answered, in blind double review) take a candidate, so a
    curator's choice is never replaced by candidate #1, and nobody accepts their own."""
    if authored_by(row, actor.name):
        return f"{row.source_code} is yours ({row.status.value}): another reviewer must accept it"
    if row.status != Status.UNMAPPED:
        by = f" by {row.author}" if row.author else ""
        return f"{row.source_code} has a curator's decision ({row.status.value}{by}); it is left as it is"
    if answered:
        return f"{row.source_code} has a blind answer waiting for its second author; it is left as it is"
    return None


def accept_candidate(
    row: MappingRow, target: Target, actor: Actor, *, method: str, answered: bool = False
) -> MappingRow:
    """Bulk acceptance of a matching candidate by a reviewer: the row is accepted with the
    candidate as its target and ``matching:<method>`` as its author, so the audit trail
    keeps apart what a person chose from what a rule proposed and a person approved."""
    if RANK[actor.role] < RANK[Role.REVIEWER]:
        raise NotAllowed(f"accepting candidates needs the role reviewer; {actor.name} is {actor.role.value}")
    why = why_not_filled(row, actor, answered=answered)
    if why is not None:
        raise InvalidTransition(why)
    return row.model_copy(
        update={
            "status": Status.ACCEPTED,
            "targets": (target,),
            "no_map": False,
            "author": f"matching:{method}",
            "authors": (),
            "reviewer": actor.name,
            "version": row.version + 1,
            "updated_at": datetime.now(UTC),
            "updated_by": actor.name,
        }
    )


def import_validated(
    row: MappingRow,
    targets: tuple[Target, ...],
    actor: Actor,
    *,
    author: str,
    replace: bool = False,
    now: datetime | None = None,
) -> MappingRow:
    """A decision validated elsewhere (a spreadsheet, an SSSOM file, a Usagi export) recorded
    as accepted: ``author`` is who made it there, ``actor`` the reviewer who vouches for
    it here. The same rules as a curator's click: the reviewer role, four eyes (the importer
    cannot vouch for their own decisions, whatever the spelling of the name), and a row any
    curator has decided is not overwritten unless an admin asks to ``replace`` it.

    >>> row = MappingRow(project_id=1, source_code="GLY")
    >>> rui = Actor(name="rui", role=Role.REVIEWER)
    >>> done = import_validated(row, (Target(code="15074-8"),), rui, author="ana")
    >>> done.status.value, done.author, done.reviewer
    ('accepted', 'ana', 'rui')
    >>> import_validated(row, (Target(code="15074-8"),), rui, author="RUI ")
    Traceback (most recent call last):
    terminology.review.workflow.NotAllowed: rui made the decision for GLY; another reviewer must import it
    """
    if RANK[actor.role] < RANK[Role.REVIEWER]:
        raise NotAllowed(f"importing decisions needs the role reviewer; {actor.name} is {actor.role.value}")
    if replace and actor.role != Role.ADMIN:
        raise NotAllowed(f"replacing decisions needs the role admin; {actor.name} is {actor.role.value}")
    if curator_decided(row) and not replace:
        raise InvalidTransition(
            f"{row.source_code} is already {row.status.value} here"
            f"{' by ' + row.author if row.author else ''}; an admin may replace it (--replace)"
        )
    if same_person(author, actor.name):
        raise NotAllowed(
            f"{actor.name} made the decision for {row.source_code}; another reviewer must import it"
        )
    if not targets:
        raise InvalidDecision(f"no target for {row.source_code}")
    return row.model_copy(
        update={
            "status": Status.ACCEPTED,
            "targets": unique_targets(targets),
            "no_map": False,
            "author": author,
            "authors": (author,),
            "reviewer": actor.name,
            "version": row.version + 1,
            "updated_at": now or datetime.now(UTC),
            "updated_by": actor.name,
        }
    )


def curator_decided(row: MappingRow) -> bool:
    """Whether a curator has decided the row in any way (a draft, a no-map, a rejection, an
    acceptance): only an undecided row takes an imported decision without ``replace``.

    >>> curator_decided(MappingRow(project_id=1, source_code="A"))
    False
    >>> curator_decided(MappingRow(project_id=1, source_code="A", status=Status.REJECTED))
    True
    """
    return row.status != Status.UNMAPPED or row.no_map or bool(row.targets)


def flag_changed_targets(
    row: MappingRow, reasons: dict[str, str], *, by: str, now: datetime | None = None
) -> MappingRow | None:
    """The row flagged for a second look when one of its targets changed in a new target
    version (``reasons``: code → why), or None when none of its targets changed. Status and
    decision stay: the curator decides again, matching never does.

    >>> row = MappingRow(project_id=1, source_code="GLY", status=Status.ACCEPTED,
    ...                  targets=(Target(code="E11"),))
    >>> flagged = flag_changed_targets(row, {"E11": "target E11 is inactive in icd|2026"}, by="concordance")
    >>> flagged.status.value, flagged.flagged, flagged.flag_reason, flagged.version
    ('accepted', True, 'target E11 is inactive in icd|2026', 2)
    >>> flag_changed_targets(row, {"E12": "gone"}, by="concordance") is None
    True
    """
    why = [reasons[target.code] for target in row.targets if target.code in reasons]
    if not why:
        return None
    return row.model_copy(
        update={
            "flagged": True,
            "flag_reason": "; ".join(why),
            "version": row.version + 1,
            "updated_at": now or datetime.now(UTC),
            "updated_by": by,
        }
    )


def may_undo(action: str, done_by: str, actor: Actor) -> bool:
    """Whether ``actor`` may take back ``action`` by ``done_by``: their own change (an
    admin: anyone's), never a blind answer, never as a viewer."""
    if action.startswith("answer-") or actor.role == Role.VIEWER:
        return False
    return same_person(actor.name, done_by) or actor.role == Role.ADMIN


def undo(
    row: MappingRow,
    before: MappingRow,
    *,
    action: str,
    done_by: str,
    actor: Actor,
    now: datetime | None = None,
) -> MappingRow:
    """The row put back as it was ``before`` its last change (``action`` by ``done_by``),
    as a new version: undoing never deletes history, it adds to it.

    Only who made the change undoes it (or an admin); a blind answer is not undone here,
    since the other author may have answered since (reopen the row instead).

    >>> ana = Actor(name="ana", role=Role.AUTHOR)
    >>> row = MappingRow(project_id=1, source_code="GLY")
    >>> mapped = decide(row, Decision(action="map", targets=(Target(code="15074-8"),)), ana)
    >>> back = undo(mapped, row, action="map", done_by="ana", actor=ana)
    >>> back.status.value, back.targets, back.version
    ('unmapped', (), 3)
    >>> undo(mapped, row, action="map", done_by="ana", actor=Actor(name="rui", role=Role.REVIEWER))
    Traceback (most recent call last):
    ...
    terminology.review.workflow.NotAllowed: only ana (or an admin) can undo their map on GLY
    """
    if action.startswith("answer-"):
        raise InvalidTransition(
            f"a blind answer on {row.source_code} cannot be undone (the other author may have answered"
            " since); reopen the row instead"
        )
    if not may_undo(action, done_by, actor):
        raise NotAllowed(f"only {done_by} (or an admin) can undo their {action} on {row.source_code}")
    return before.model_copy(
        update={"version": row.version + 1, "updated_at": now or datetime.now(UTC), "updated_by": actor.name}
    )
