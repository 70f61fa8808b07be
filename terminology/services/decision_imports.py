"""Decisions made elsewhere (a spreadsheet, an SSSOM file) brought in under the same rules
as the page's: each row decided by a named member, four eyes, blind answers kept, all or
nothing."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from terminology.backends import Backends
from terminology.errors import SourceFileError
from terminology.records import Change, Project
from terminology.review.decision_files import (
    DecisionFormat,
    ImportedDecision,
    read_decisions,
    read_decisions_text,
)
from terminology.review.workflow import (
    Actor,
    CurationError,
    InvalidDecision,
    InvalidTransition,
    MappingRow,
    Status,
    curator_decided,
    import_validated,
)
from terminology.services.users import find_member


def import_decisions(
    store: Backends,
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
    rows = store.rows.get_rows(project, [decision.source_code for decision in decisions])
    answered = store.rows.answered_codes(project)  # whatever the mode now: answers stay blind
    changes = [
        _imported_change(decision, rows, known, answered, actor, source_name, replace=replace)
        for decision in decisions
    ]
    store.rows.save_decisions(changes)
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
    store: Backends,
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
    store: Backends,
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
