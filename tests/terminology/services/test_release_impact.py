"""Release impact of a new target version on a published ConceptMap, on both databases."""

from __future__ import annotations

from pathlib import Path

from terminology.matching.engine import match
from terminology.services.concept_maps import publish_project as publish
from terminology.services.concept_maps import release_impact
from terminology.storage import projects
from terminology.storage.projects import save_candidates
from terminology.storage.store import SqlStore
from tests.terminology.storage.test_curation import accept, load


def test_a_new_target_version_lists_the_mappings_to_review(store: SqlStore, tmp_path: Path) -> None:
    local = load(store, tmp_path, "labo", "1", "code,display\nA,Glycémie\nB,Kaliémie\nC,Natrémie\n")
    old = load(store, tmp_path, "ref", "1", "code,display\nG,Glucose\nK,Potassium\nNA,Sodium\n")
    new = load(store, tmp_path, "ref", "2", "code,display\nG,Glucose\nK,Potassium sérique\n")
    saved = save_candidates(store, "labo", local, old, match(store, local, old), rules=[], settings={})
    project = projects.get_project(store, saved.id)
    for code, target in (("A", "G"), ("B", "K"), ("C", "NA")):
        accept(store, project, code, target)
    published = publish(store, project, status="active")
    impacted = {item.source_code: item.reason for item in release_impact(store, published.resource, new)}
    assert impacted == {
        "B": 'target K relabelled in urn:ref|2: "Potassium" → "Potassium sérique"',
        "C": "target NA is not in urn:ref|2",
    }
    assert release_impact(store, published.resource, old) == []  # the version it was built on
