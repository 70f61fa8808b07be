"""Curation storage on SQLite and PostgreSQL: versions, audit trail, re-matching after a new
target version."""

from __future__ import annotations

from pathlib import Path

import pytest

from terminology.importers import importer_class
from terminology.matching.engine import match
from terminology.models import CodeSystemMetadata
from terminology.records import Change, Project
from terminology.review.workflow import Actor, Decision, MappingRow, Role, Status, Target, decide
from terminology.services.importing import import_code_system
from terminology.services.matching import match_and_save
from terminology.services.queue import frequency_covered
from terminology.storage import curation
from terminology.storage.database import SqlDatabase

AUTHOR, REVIEWER = Actor(name="ana", role=Role.AUTHOR), Actor(name="rui", role=Role.REVIEWER)


def load(store: SqlDatabase, tmp_path: Path, name: str, version: str, text: str):
    path = tmp_path / f"{name}-{version}.csv"
    path.write_text(text, encoding="utf-8")
    metadata = CodeSystemMetadata(url=f"urn:{name}", version=version, language="fr", name=name)
    return import_code_system(
        store, importer_class("csv").with_options({}), path, overrides=metadata
    ).code_system


def accept(store: SqlDatabase, project: Project, code: str, target: str) -> None:
    row = store.rows.get_row(project, code)
    for decision, actor in (
        (Decision(action="map", targets=(Target(code=target),)), AUTHOR),
        (Decision(action="submit"), AUTHOR),
        (Decision(action="accept"), REVIEWER),
    ):
        after = decide(row, decision, actor)
        row = save_decision(store, row, after, action=decision.action)


def test_a_new_target_version_flags_rows_whose_target_changed(store: SqlDatabase, tmp_path: Path) -> None:
    """Matching again on a new target version (the service works out what changed; storage
    flags the rows in the same transaction as the new candidates)."""
    local = load(store, tmp_path, "labo", "1", "code,display\nA,Glycémie\nB,Kaliémie\nC,Natrémie\nD,Urée\n")
    old = load(
        store, tmp_path, "ref", "1",
        "code,display\nG,Glucose\nK,Potassium\nNA,Sodium\nU,Urée\n",
    )  # fmt: skip
    new = load(
        store, tmp_path, "ref", "2",
        "code,display\nG,Glucose\nK,Potassium sérique\nU,Urée\n",
    )  # fmt: skip
    saved = match_and_save(store, local, old, project="labo").project
    assert saved is not None
    project = store.projects.get_project(saved.id)
    accept(store, project, "A", "G")
    accept(store, project, "B", "K")
    accept(store, project, "C", "NA")
    untouched = store.rows.get_row(project, "A")
    again = match_and_save(store, local, new, project="labo").project
    assert again is not None and again.replaced and again.id == project.id
    kept = store.rows.get_row(project, "A")
    assert kept == untouched  # unchanged target: same status, same version, not flagged
    relabelled = store.rows.get_row(project, "B")
    assert relabelled.flagged and relabelled.status == Status.ACCEPTED
    assert relabelled.flag_reason == 'target K relabelled in urn:ref|2: "Potassium" → "Potassium sérique"'
    gone = store.rows.get_row(project, "C")
    assert gone.flagged and gone.flag_reason == "target NA is not in urn:ref|2"
    assert not store.rows.get_row(project, "D").flagged  # never decided: nothing to re-check
    last = store.rows.history(project, "C")[-1]
    assert last.actor == "concordance" and last.action == "flag" and last.comment == gone.flag_reason


def test_versions_guard_every_write(store: SqlDatabase, tmp_path: Path) -> None:
    local = load(store, tmp_path, "labo", "1", "code,display\nA,Glycémie\n")
    ref = load(store, tmp_path, "ref", "1", "code,display\nG,Glucose\n")
    saved = store.projects.save_candidates("p", local, ref, match(store, local, ref), rules=[], settings={})
    project = store.projects.get_project(saved.id)
    row = store.rows.get_row(project, "A")
    first = decide(row, Decision(action="map", targets=(Target(code="G"),)), AUTHOR)
    save_decision(store, row, first, action="map")
    second = decide(row, Decision(action="no_map"), Actor(name="eve", role=Role.AUTHOR))
    with pytest.raises(curation.StaleVersionError) as caught:
        save_decision(store, row, second, action="no_map")
    assert caught.value.current.targets == (Target(code="G"),) and caught.value.current.updated_by == "ana"
    assert [event.action for event in store.rows.history(project)] == ["map"]


def test_share_of_source_usage_covered(store: SqlDatabase, tmp_path: Path) -> None:
    local = load(store, tmp_path, "labo", "1", "code,display,frequency\nA,Glycémie,900\nB,Kaliémie,100\n")
    ref = load(store, tmp_path, "ref", "1", "code,display\nG,Glucose\nK,Potassium\n")
    saved = match_and_save(store, local, ref, project="p").project
    assert saved is not None
    project = store.projects.get_project(saved.id)
    assert frequency_covered(store, project) == 0.0
    accept(store, project, "A", "G")
    assert frequency_covered(store, project) == pytest.approx(0.9)
    plain = load(store, tmp_path, "plain", "1", "code,display\nA,Glycémie\n")
    other = match_and_save(store, plain, ref, project="q").project
    assert other is not None
    assert frequency_covered(store, store.projects.get_project(other.id)) is None


def test_the_audit_trail_is_append_only_in_the_database(store: SqlDatabase, tmp_path: Path) -> None:
    import sqlalchemy as sa

    local = load(store, tmp_path, "labo", "1", "code,display\nA,Glycémie\n")
    ref = load(store, tmp_path, "ref", "1", "code,display\nG,Glucose\n")
    saved = store.projects.save_candidates("p", local, ref, match(store, local, ref), rules=[], settings={})
    accept(store, store.projects.get_project(saved.id), "A", "G")
    for statement in ("UPDATE mapping_event SET actor = 'someone else'", "DELETE FROM mapping_event"):
        with pytest.raises(sa.exc.DBAPIError, match="append-only"), store.engine.begin() as connection:
            connection.execute(sa.text(statement))
    with store.engine.connect() as connection:
        actors = connection.execute(sa.text("SELECT actor FROM mapping_event ORDER BY id")).scalars().all()
    assert actors == ["ana", "ana", "rui"]


def save_decision(store: SqlDatabase, before: MappingRow, after: MappingRow, *, action: str) -> MappingRow:
    """One change written through the rows Protocol, as the curation service writes it."""
    store.rows.save_decisions([Change(before, after, action)])
    return after
