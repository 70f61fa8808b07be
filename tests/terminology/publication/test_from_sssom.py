"""SSSOM mapping sets as ConceptMaps: round trips with the exporter and with the ``sssom``
package, and clear errors for what cannot be read."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from terminology.exporters.conceptmap_formats import to_sssom
from terminology.mapping_sets import InvalidMappingSetError
from terminology.publication.conceptmap import as_r4
from terminology.publication.from_sssom import conceptmap_from_sssom
from terminology.services.concept_maps import save_concept_map
from terminology.storage.store import SqlStore
from tests.conftest import BUNDLED

HL7 = sorted((BUNDLED / "hl7_conceptmaps" / "original").glob("ConceptMap-*.json"))
NO_GROUP_SYSTEM = "ConceptMap-cdshooks-indicator"
"""The one HL7 example whose group names no code system (R4 allows it)."""
SAME_AFTER_SSSOM = {
    "equal": "equivalent",
    "inexact": "relatedto",
    "subsumes": "wider",
    "specializes": "narrower",
}
"""R4 equivalences SSSOM has no predicate of their own for, and what they come back as."""


def _pairs(resource: dict[str, Any]) -> set[tuple[str, str, str, str | None, str]]:
    found = set()
    for group in resource.get("group", []):
        for element in group.get("element", []):
            if "code" not in element:
                continue  # not expressible in SSSOM (no subject)
            for target in element.get("target", []) or [{"equivalence": "unmatched"}]:
                equivalence = SAME_AFTER_SSSOM.get(target["equivalence"], target["equivalence"])
                system = group.get("target") if target.get("code") else None
                found.add((group["source"], element["code"], equivalence, system, target.get("code", "")))
    return found


@pytest.mark.parametrize("path", HL7, ids=lambda p: p.stem)
def test_every_hl7_example_map_round_trips_through_sssom(path: Path) -> None:
    original = as_r4(json.loads(path.read_text(encoding="utf-8")))
    if path.stem == NO_GROUP_SYSTEM:  # SSSOM needs a namespace: the map's scope stands in
        original["group"] = [{**g, "source": original["sourceCanonical"], "target": original["targetCanonical"]}
                             for g in original["group"]]  # fmt: skip
    original.setdefault("version", "653aed3")  # as the demo imports versionless examples
    back = conceptmap_from_sssom(to_sssom(original), where=path.name, status=original["status"])
    assert back["url"] == original["url"] and back["version"] == original["version"]
    assert _pairs(back) == _pairs(original)


def test_a_mapping_set_written_by_the_sssom_package_is_served(store: SqlStore, tmp_path: Path) -> None:
    from sssom.parsers import parse_sssom_table
    from sssom.writers import write_table

    original = as_r4(
        json.loads((BUNDLED / "hl7_conceptmaps" / "original" / "ConceptMap-101.json").read_text())
    )
    exported = tmp_path / "ours.sssom.tsv"
    exported.write_text(to_sssom(original), encoding="utf-8")
    rewritten = tmp_path / "theirs.sssom.tsv"
    with rewritten.open("w", encoding="utf-8") as out:
        write_table(parse_sssom_table(exported), out)
    resource = conceptmap_from_sssom(rewritten.read_text(encoding="utf-8"), where=rewritten.name)
    assert _pairs(resource) == _pairs(original)
    stored, new = save_concept_map(store, resource)
    assert new and stored.status == "draft" and stored.url == original["url"]


HEADER = "# curie_map:\n#   A: urn:a/\n#   B: urn:b/\n# mapping_set_id: urn:m\n# mapping_set_version: '2'\n"
COLUMNS = "subject_id\tsubject_label\tpredicate_id\tpredicate_modifier\tobject_id\tmapping_justification\n"


def test_no_term_found_and_negative_mappings() -> None:
    rows = ("A:1\tOne\tskos:exactMatch\t\tsssom:NoTermFound\tsemapv:ManualMappingCuration\n"
            "A:2\tTwo\tskos:exactMatch\tNot\tB:9\tsemapv:ManualMappingCuration\n"
            "A:3\tThree\tskos:broadMatch\t\tB:a%2Fb\tsemapv:ManualMappingCuration\n")  # fmt: skip
    resource = conceptmap_from_sssom(HEADER + COLUMNS + rows)
    (group,) = resource["group"]
    assert group["source"] == "urn:a" and group["target"] == "urn:b"
    targets = {element["code"]: element["target"] for element in group["element"]}
    assert targets["1"] == [{"equivalence": "unmatched"}]
    assert targets["2"] == [{"code": "9", "equivalence": "disjoint"}]
    assert targets["3"] == [{"code": "a/b", "equivalence": "wider"}]  # percent-encoding undone


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (HEADER + "subject_id\tpredicate_id\nA:1\tskos:exactMatch\n", "line 6 (column names): object_id, mapping_justification missing"),
        (HEADER + COLUMNS + "X:1\t\tskos:exactMatch\t\tB:2\tsemapv:LexicalMatching\n", "line 7, field subject_id: prefix 'X'"),
        (HEADER + COLUMNS + "A:1\t\tskos:fooMatch\t\tB:2\tsemapv:LexicalMatching\n", "line 7, field predicate_id: 'skos:fooMatch'"),
        (HEADER + COLUMNS + "A:1\t\tskos:exactMatch\tMaybe\tB:2\tsemapv:LexicalMatching\n", "line 7, field predicate_modifier"),
        (HEADER + COLUMNS + "A:1\t\tskos:exactMatch\t\tB2\tsemapv:LexicalMatching\n", "line 7, field object_id: 'B2' is not a CURIE"),
        (HEADER + COLUMNS + "A:1\t\tskos:exactMatch\t\tB:2\tsemapv:LexicalMatching\textra\n", "line 7: more fields"),
        (HEADER.replace("# mapping_set_id: urn:m\n", "") + COLUMNS + "A:1\t\tskos:exactMatch\t\tB:2\tx\n", "mapping_set_id is required"),
        (HEADER.replace("# mapping_set_version: '2'\n", "") + COLUMNS + "A:1\t\tskos:exactMatch\t\tB:2\tx\n", "mapping_set_version is missing"),
        (HEADER + COLUMNS, "no mappings"),
        ("# curie_map: [\n" + COLUMNS, "not YAML"),
    ],
)  # fmt: skip
def test_what_cannot_be_read_is_refused_with_where_and_why(text: str, message: str) -> None:
    with pytest.raises(InvalidMappingSetError) as refused:
        conceptmap_from_sssom(text, where="set.sssom.tsv")
    assert str(refused.value).startswith("set.sssom.tsv: ") and message in str(refused.value)


def test_the_version_can_be_given_when_the_set_has_none() -> None:
    text = HEADER.replace("# mapping_set_version: '2'\n", "") + COLUMNS + "A:1\t\tskos:exactMatch\t\tB:2\tx\n"
    assert conceptmap_from_sssom(text, version="2026-11")["version"] == "2026-11"
