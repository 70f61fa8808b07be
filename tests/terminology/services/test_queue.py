"""A work queue at scale, as services: filters on what each row keeps (best score and
method, chapter and ancestors, usage, comment, assignee), the row's position for deep
links, a concept's neighbourhood, progress per curator and chapter, undo of one row and
of a bulk batch, and a bulk preview that writes nothing. On SQLite and PostgreSQL."""

from __future__ import annotations

from pathlib import Path

import pytest

from terminology.importers import importer_class
from terminology.models import CodeSystem, CodeSystemMetadata
from terminology.records import RowQuery, StaleVersionError
from terminology.review.workflow import Actor, InvalidTransition, NotAllowed, Role, Status
from terminology.services.decision_imports import import_decision_file
from terminology.services.decisions import (
    BulkRequest,
    RowDecision,
    bulk_decide,
    decide_row,
    undo_batch,
    undo_last,
)
from terminology.services.importing import import_code_system
from terminology.services.matching import match_and_save
from terminology.services.queue import neighbourhood, progress_report, queue_page, queue_position
from terminology.services.users import add_member
from terminology.storage import curation, projects, users
from terminology.storage.store import SqlStore

ANA, EVE = Actor(name="ana", role=Role.AUTHOR), Actor(name="eve", role=Role.AUTHOR)
RUI, ADA = Actor(name="rui", role=Role.REVIEWER), Actor(name="ada", role=Role.ADMIN)

LOCAL = """code,display,parent_code,frequency
BIO,Biologie,,
CHIM,Chimie,BIO,
GLY,Glycémie,CHIM,900
KAL,Kaliémie,CHIM,60
NAT,Natrémie,CHIM,40
HEM,Hématologie,BIO,
HB,Hémoglobine,HEM,0
"""
REFERENCE = """code,display,parent_code
LAB,Laboratoire,
CH,Chimie,LAB
G,Glucose,CH
K,Potassium,CH
N,Sodium,CH
H,Hémoglobine,LAB
"""


def load(store: SqlStore, tmp_path: Path, name: str, text: str) -> CodeSystem:
    path = tmp_path / f"{name}.csv"
    path.write_text(text, encoding="utf-8")
    metadata = CodeSystemMetadata(url=f"urn:{name}", version="1", language="fr", name=name)
    importer = importer_class("csv").with_options({"parent_column": "parent_code"})
    return import_code_system(store, importer, path, overrides=metadata).code_system


@pytest.fixture
def project(store: SqlStore, tmp_path: Path) -> projects.Project:
    local, reference = load(store, tmp_path, "labo", LOCAL), load(store, tmp_path, "ref", REFERENCE)
    saved = match_and_save(store, local, reference, project="labo").project
    assert saved is not None
    found = projects.get_project(store, saved.id)
    for actor in (ANA, EVE, RUI, ADA):  # assignment goes to members only
        users.add_member(store, found, users.ensure_user(store, actor.name)[0], actor.role)
    return found


def decide(store: SqlStore, project: projects.Project, actor: Actor, code: str, **decision: object) -> None:
    row = curation.get_row(store, project, code)
    decide_row(
        store,
        project,
        actor,
        code,
        RowDecision(**decision),  # type: ignore[arg-type]
        expected_version=row.version,
        longest_comment=1000,
    )


def codes(store: SqlStore, project: projects.Project, **query: object) -> list[str]:
    page = queue_page(store, project, RowQuery(limit=100, **query))  # type: ignore[arg-type]
    assert page.total == len(page.rows)
    return [row.source_code for row, _ in page.rows]


def test_rows_keep_what_the_queue_filters_on(store: SqlStore, project: projects.Project) -> None:
    assert codes(store, project, within="CHIM") == ["CHIM", "GLY", "KAL", "NAT"]
    assert codes(store, project, within="BIO") == ["BIO", "CHIM", "GLY", "HB", "HEM", "KAL", "NAT"]
    assert codes(store, project, text="hemoglobine") == ["HB"]  # accents folded
    assert codes(store, project, sort="-frequency")[:3] == ["GLY", "KAL", "NAT"]
    best = {row.source_code: score for row, score in queue_page(store, project, RowQuery()).rows}
    assert codes(store, project, min_score=best["GLY"], sort="source_code")[0] in best
    lexical = codes(store, project, method="lexical")
    assert lexical and set(lexical) <= set(best)
    decide(store, project, ANA, "KAL", action="comment", comment="à vérifier")
    assert codes(store, project, commented=True) == ["KAL"]
    decide(store, project, RUI, "NAT", action="assign", assignee="eve")
    assert codes(store, project, assignee="eve") == ["NAT"]
    assert "NAT" not in codes(store, project, assignee="")  # unassigned
    page = queue_page(store, project, RowQuery(within="CHIM", status=(Status.UNMAPPED,)))
    assert page.counts == {"unmapped": 4} and page.total == 4


def test_a_row_s_position_in_any_order(store: SqlStore, project: projects.Project) -> None:
    ordered = codes(store, project, sort="-frequency")
    for index, code in enumerate(ordered):
        assert queue_position(store, project, RowQuery(sort="-frequency"), code) == index
    assert queue_position(store, project, RowQuery(within="HEM"), "GLY") is None  # filtered out
    with pytest.raises(curation.RowNotFoundError):
        queue_position(store, project, RowQuery(), "NOPE")


def test_a_concept_s_neighbourhood(store: SqlStore, project: projects.Project) -> None:
    around = neighbourhood(store, project, "source", "KAL")
    assert [step["code"] for step in around["path"]] == ["BIO", "CHIM"]
    assert {s["code"] for s in around["siblings"]} == {"GLY", "NAT"} and around["children"] == []
    target = neighbourhood(store, project, "target", "CH")
    assert target["display"] == "Chimie" and target["children_total"] == 3
    with pytest.raises(curation.RowNotFoundError):
        neighbourhood(store, project, "target", "GLY")  # a source code, not a target one


def test_progress_per_curator_and_chapter(store: SqlStore, project: projects.Project) -> None:
    for code, target in (("GLY", "G"), ("KAL", "K")):
        decide(store, project, ANA, code, action="map", targets=[{"code": target}])
        decide(store, project, ANA, code, action="submit")
    decide(store, project, RUI, "GLY", action="accept")
    decide(store, project, RUI, "HB", action="assign", assignee="eve")
    report = progress_report(store, project)
    assert (report.total, report.decided, report.accepted) == (7, 2, 1)
    assert report.frequency_covered == pytest.approx(900 / 1000)
    curators = {c["name"]: c for c in report.curators}
    assert curators["ana"]["authored"] == 2 and curators["ana"]["accepted"] == 1
    assert curators["eve"]["assigned"] == 1 and curators["eve"]["assigned_decided"] == 0
    chapters = {c["code"]: c for c in report.chapters}
    assert chapters["BIO"]["total"] == 6 and chapters["BIO"]["decided"] == 2
    assert chapters["BIO"]["display"] == "Biologie"


def test_undo_takes_back_one_s_own_last_change(store: SqlStore, project: projects.Project) -> None:
    decide(store, project, ANA, "GLY", action="map", targets=[{"code": "G"}])
    decide(store, project, ANA, "GLY", action="submit")
    version = curation.get_row(store, project, "GLY").version
    with pytest.raises(NotAllowed):  # not eve's change
        undo_last(store, project, EVE, "GLY", expected_version=version)
    with pytest.raises(StaleVersionError):  # the curator saw an older row
        undo_last(store, project, ANA, "GLY", expected_version=version - 1)
    back = undo_last(store, project, ANA, "GLY", expected_version=version)
    assert back.status == Status.DRAFT and back.version == version + 1
    assert [event.action for event in curation.history(store, project, "GLY")] == ["map", "submit", "undo"]
    again = undo_last(store, project, ADA, "GLY", expected_version=back.version)  # an admin may
    assert again.status == Status.IN_REVIEW  # undoing the undo


def test_undo_never_reopens_a_blind_answer(store: SqlStore, project: projects.Project) -> None:
    double = projects.set_review_mode(store, project, "double")
    decide(store, double, ANA, "GLY", action="map", targets=[{"code": "G"}])
    row = curation.get_row(store, double, "GLY")
    with pytest.raises(InvalidTransition, match="blind answer"):
        undo_last(store, double, ANA, "GLY", expected_version=row.version)


def test_bulk_preview_writes_nothing_and_a_batch_is_undone_whole(
    store: SqlStore, project: projects.Project
) -> None:
    request = BulkRequest(action="accept-candidates", min_score=0.0, within="CHIM")
    preview = bulk_decide(store, project, RUI, request, longest_comment=1000, preview=True)
    assert preview.batch is None and set(preview.applied) <= {"CHIM", "GLY", "KAL", "NAT"} and preview.applied
    assert len(preview.sample) == len(preview.applied)
    assert curation.status_counts(store, project)["accepted"] == 0
    done = bulk_decide(store, project, RUI, request, longest_comment=1000)
    assert done.applied == preview.applied and done.batch
    assert curation.status_counts(store, project)["accepted"] == len(done.applied)
    with pytest.raises(NotAllowed):  # someone else's batch
        undo_batch(store, project, Actor(name="ivo", role=Role.REVIEWER), done.batch)
    untouched = bulk_decide(
        store,
        project,
        RUI,
        BulkRequest(action="accept-candidates", within="HEM"),
        longest_comment=1000,
    )
    assert untouched.batch and untouched.applied
    first = done.applied[0]
    decide(store, project, RUI, first, action="flag", comment="looked at since")
    with pytest.raises(InvalidTransition, match="changed since"):  # never half undone
        undo_batch(store, project, RUI, done.batch)
    accepted = len(done.applied) + len(untouched.applied)
    assert curation.status_counts(store, project)["accepted"] == accepted
    undone = undo_batch(store, project, RUI, untouched.batch)
    assert set(undone.applied) == set(untouched.applied)
    assert curation.status_counts(store, project)["accepted"] == len(done.applied)
    assert all(curation.get_row(store, project, code).status == Status.UNMAPPED for code in undone.applied)


def test_most_useful_order_puts_unsure_rows_first_and_changes_after_decisions(
    store: SqlStore, tmp_path: Path
) -> None:
    """On the real SAMU-Hub upgrade: the order is the model's doubt (smallest gap between the
    best two candidates first, decided rows last), and deciding rows then retraining
    re-ranks the rest, so the order a curator works in moves with what was learnt."""
    from terminology.services.retraining import retrain_now
    from tests.conftest import import_samu

    old, new = import_samu(store, "1.9"), import_samu(store, "2.3")
    saved = match_and_save(store, old, new, project="samu").project
    assert saved is not None
    project = projects.get_project(store, saved.id)

    def useful_order() -> list[str]:
        page = queue_page(store, project, RowQuery(sort="useful", limit=300))
        return [row.source_code for row, _ in page.rows]

    before = useful_order()
    table = curation.rows_table
    with store.engine.connect() as connection:
        margins = dict(
            connection.execute(
                table.select()
                .with_only_columns(table.c.source_code, table.c.best_margin)
                .where(table.c.project_id == project.id)
            ).all()
        )
    assert len(before) == 286 and all(margins[code] is not None for code in before)
    assert [margins[code] for code in before] == sorted(margins[code] for code in before)
    validated = tmp_path / "validated.csv"
    first = before[:12]
    candidates = {
        c["source_code"]: c["target_code"] for c in projects.project_candidates(store, "samu")[::-1]
    }
    rows = "\n".join(f"{code},{candidates[code]},ana" for code in first)
    validated.write_text(f"source_code,target_code,author\n{rows}\n", encoding="utf-8")
    add_member(store, project, "rui", Role.REVIEWER)
    assert import_decision_file(store, project, validated, by="rui") == 12
    retrain_now(store, project)
    after = useful_order()
    assert set(after[-12:]) == set(first)  # decided rows go last
    assert after[:-12] != [code for code in before if code not in first]  # the rest re-ranked
