"""Map files are read in one place, for the command line and the Python API alike."""

from __future__ import annotations

from pathlib import Path

import pytest

from terminology.errors import SourceFileError
from terminology.services.concept_maps import import_map_file, read_map_file
from terminology.storage.store import SqlStore
from tests.conftest import BUNDLED

HL7 = BUNDLED / "hl7_conceptmaps" / "original" / "ConceptMap-101.json"


def test_a_fhir_map_is_served_once(store: SqlStore) -> None:
    stored, new = import_map_file(store, HL7, status="active")
    again, new_again = import_map_file(store, HL7, status="active")
    assert new and not new_again and stored.id == again.id and stored.status == "active"


@pytest.mark.parametrize(
    ("name", "text", "said"),
    [("bad.json", "{not json", "not a JSON file"), ("list.json", "[1, 2]", "a JSON object is expected")],
)
def test_unreadable_map_files_are_refused_naming_them(
    tmp_path: Path, name: str, text: str, said: str
) -> None:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    with pytest.raises(SourceFileError, match=said) as refused:
        read_map_file(path)
    assert name in str(refused.value)


def test_a_version_moves_forward_only_and_keeps_its_content(store: SqlStore) -> None:
    from terminology.publication.conceptmap import InvalidConceptMapError
    from terminology.services.concept_maps import change_status, diff_versions

    stored, _ = import_map_file(store, HL7, status="draft")
    assert change_status(store, stored.id, "active").status == "active"
    with pytest.raises(InvalidConceptMapError, match=r"an? active ConceptMap cannot go back to draft"):
        change_status(store, stored.id, "draft")
    retired = change_status(store, stored.id, "retired")
    assert retired.resource == stored.resource
    assert diff_versions(store, stored.id, retired.id).counts == {"added": 0, "removed": 0, "changed": 0}


def test_a_map_without_a_version_is_not_stored(store: SqlStore) -> None:
    import json

    from terminology.publication.conceptmap import InvalidConceptMapError
    from terminology.services.concept_maps import save_concept_map
    from terminology.storage.conceptmaps import search_concept_maps

    resource = json.loads(HL7.read_text(encoding="utf-8"))
    resource.pop("version", None)
    with pytest.raises(InvalidConceptMapError, match="version is required"):
        save_concept_map(store, resource)
    assert search_concept_maps(store) == []


def test_two_publications_in_one_second_are_two_versions(store: SqlStore) -> None:
    from terminology.services.concept_maps import unused_version

    stored, _ = import_map_file(store, HL7, status="active")
    assert unused_version(store, stored.url, "20261203120000") == "20261203120000"
    assert unused_version(store, stored.url, stored.version) == f"{stored.version}-2"
    assert unused_version(store, "http://example.org/other", stored.version) == stored.version
