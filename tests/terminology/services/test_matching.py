"""Match-and-save, the one flow the command line, the Python API and the demo share: a
project records the rules and settings that ``match --retrain`` replays."""

from __future__ import annotations

from terminology.importers import importer_class
from terminology.importing import import_code_system
from terminology.models import CodeSystemMetadata
from terminology.services.matching import match_and_save
from terminology.storage import projects
from terminology.storage.projects import project_candidates
from terminology.storage.store import SqlStore
from tests.conftest import BUNDLED, ROOT

RULES = ROOT / "mapping_rules" / "rules" / "nomenclature_upgrade.yaml"


def test_match_and_save_records_what_retraining_replays(store: SqlStore) -> None:
    systems = {}
    for version in ("1.9", "2.3"):
        systems[version] = import_code_system(
            store,
            importer_class("csv").with_options({}),
            BUNDLED / "samu_nomenclature" / f"samu_nomenclature_v{version}.csv",
            overrides=CodeSystemMetadata(url="urn:samu", version=version, language="fr", name="SAMU"),
        ).code_system
    unsaved = match_and_save(store, systems["1.9"], systems["2.3"], rules=[RULES], top_k=2)
    assert unsaved.project is None and unsaved.candidates and projects.list_projects(store) == []
    saved = match_and_save(store, systems["1.9"], systems["2.3"], rules=[RULES], top_k=2, project="samu")
    assert saved.project is not None and saved.project.candidate_count == len(saved.candidates)
    assert len(project_candidates(store, "samu")) == len(saved.candidates)
    with store.engine.connect() as connection:
        record = connection.execute(
            projects.projects.select().where(projects.projects.c.name == "samu")
        ).one()
    assert record.rules == [str(RULES)]
    assert record.settings == {"top": 2, "min_score": 0.0, "memory": [], "review": "single"}
