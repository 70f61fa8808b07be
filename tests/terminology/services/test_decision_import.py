"""Decisions imported from a file: accepted with their provenance, all or nothing, four eyes."""

from __future__ import annotations

from pathlib import Path

import pytest

from terminology.errors import SourceFileError
from terminology.importers import importer_class
from terminology.models import Candidate, CodeSystem, CodeSystemMetadata, MatchMethod
from terminology.review.decision_files import read_decisions
from terminology.review.workflow import Actor, Role, Status
from terminology.services.decision_imports import import_decisions
from terminology.services.importing import import_code_system
from terminology.storage import curation, projects
from terminology.storage.projects import save_candidates
from terminology.storage.store import SqlStore


def _system(store: SqlStore, tmp_path: Path, name: str, rows: str) -> CodeSystem:
    path = tmp_path / f"{name}.csv"
    path.write_text("code,display\n" + rows, encoding="utf-8")
    return import_code_system(
        store,
        importer_class("csv").with_options({}),
        path,
        overrides=CodeSystemMetadata(url=f"urn:{name}", version="1", language="fr"),
    ).code_system


def _project(store: SqlStore, tmp_path: Path) -> projects.Project:
    source = _system(store, tmp_path, "labo", "GLY,Glycémie\nK,Potassium\nNA,Sodium\n")
    target = _system(store, tmp_path, "loinc", "L1,Glucose\nL2,Potassium\nL3,Sodium\n")
    candidate = Candidate(
        source_code="GLY", source_label="Glycémie", target_code="L1", target_label="Glucose",
        rank=1, score=0.9, equivalence="equivalent", method=MatchMethod.LEXICAL, reason="labels",
    )  # fmt: skip
    saved = save_candidates(store, "labo", source, target, [candidate], rules=[], settings={})
    return projects.get_project(store, saved.id)


def _import(store: SqlStore, project: projects.Project, path: Path, by: str = "rui") -> int:
    return import_decisions(
        store, project, read_decisions(path), Actor(name=by, role=Role.REVIEWER), source_name=str(path)
    )


def test_imported_decisions_are_accepted_with_their_provenance(store: SqlStore, tmp_path: Path) -> None:
    project = _project(store, tmp_path)
    path = tmp_path / "validated.csv"
    path.write_text("source_code,target_code,author\nGLY,L1,ana\nK,L2,ana\n", encoding="utf-8")
    assert _import(store, project, path) == 2
    row = curation.get_row(store, project, "K")
    assert (row.status, row.author, row.reviewer, [t.code for t in row.targets]) == (
        Status.ACCEPTED,
        "ana",
        "rui",
        ["L2"],
    )
    event = curation.history(store, project, "K")[-1]
    assert (event.action, event.actor) == ("import", "rui")
    assert event.comment == "validated by ana; imported from validated.csv:3"
    assert set(curation.accepted_targets(store, project)) == {"GLY", "K"}


@pytest.mark.parametrize(
    ("rows", "message"),
    [
        ("GLY,L1,ana\nK,L9,ana\n", "validated.csv:3: target code 'L9' is not in the project's target system"),
        ("GLY,L1,ana\nZZ,L2,ana\n", "validated.csv:3: source code 'ZZ' is not a source concept"),
        ("GLY,L1,ana\nK,L2,rui\n", "validated.csv:3: rui made the decision for K; another reviewer"),
    ],
)
def test_one_bad_row_imports_nothing(store: SqlStore, tmp_path: Path, rows: str, message: str) -> None:
    project = _project(store, tmp_path)
    path = tmp_path / "validated.csv"
    path.write_text("source_code,target_code,author\n" + rows, encoding="utf-8")
    with pytest.raises(SourceFileError) as raised:
        _import(store, project, path)
    assert message in str(raised.value)
    assert curation.get_row(store, project, "GLY").status is Status.UNMAPPED
    assert not curation.history(store, project)


def test_a_row_decided_here_is_not_overwritten(store: SqlStore, tmp_path: Path) -> None:
    project = _project(store, tmp_path)
    first = tmp_path / "first.csv"
    first.write_text("source_code,target_code,author\nGLY,L1,ana\n", encoding="utf-8")
    _import(store, project, first)
    again = tmp_path / "again.csv"
    again.write_text("source_code,target_code,author\nGLY,L3,eve\n", encoding="utf-8")
    with pytest.raises(SourceFileError, match=r"again\.csv:2: GLY is already accepted here"):
        _import(store, project, again)
    assert [t.code for t in curation.get_row(store, project, "GLY").targets] == ["L1"]
