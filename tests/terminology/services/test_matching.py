"""Match-and-save, the one flow the command line, the Python API and the demo share: a
project records the rules and settings that ``match --retrain`` replays."""

from __future__ import annotations

from terminology.models import CodeSystem
from terminology.services.matching import match_and_save
from terminology.storage import projects
from terminology.storage.projects import project_candidates
from terminology.storage.store import SqlStore
from tests.conftest import ROOT

RULES = ROOT / "mapping_rules" / "rules" / "nomenclature_upgrade.yaml"


def test_match_and_save_records_what_retraining_replays(store: SqlStore, samu: dict[str, CodeSystem]) -> None:
    unsaved = match_and_save(store, samu["1.9"], samu["2.3"], rules=[RULES], top_k=2)
    assert unsaved.project is None and unsaved.candidates and projects.list_projects(store) == []
    saved = match_and_save(store, samu["1.9"], samu["2.3"], rules=[RULES], top_k=2, project="samu")
    assert saved.project is not None and saved.project.candidate_count == len(saved.candidates)
    assert len(project_candidates(store, "samu")) == len(saved.candidates)
    with store.engine.connect() as connection:
        record = connection.execute(
            projects.projects.select().where(projects.projects.c.name == "samu")
        ).one()
    assert record.rules == [str(RULES)]
    assert record.settings == {"top": 2, "min_score": 0.0, "memory": [], "review": "single"}
