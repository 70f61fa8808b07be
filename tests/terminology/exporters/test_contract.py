"""The contract every registered ConceptMap exporter keeps, checked for each one by the
same test: what it writes, its registered reader reads back as the same mappings — on
every bundled map (the HL7 examples with their unmapped modes, dependencies and products,
the curated SAMU-Hub table) and on a map published from curators' decisions, with
formula-like labels. SSSOM has fewer relationship words than FHIR R4: its round trip is
compared through the SKOS predicate each equivalence becomes, with labels trimmed (its
tables keep no leading or trailing blanks). A map without a version is read back with
the version its reader is given, as ``conceptmaps import --version`` does."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from terminology.exporters import export_formats, exporter, reader
from terminology.exporters.sssom import PREDICATES
from terminology.publication.bundled import HL7_EXAMPLES, samu_correspondence

MAPS: dict[str, dict[str, Any]] = {
    **{path.stem: json.loads(path.read_text(encoding="utf-8")) for path in HL7_EXAMPLES},
    "samu": samu_correspondence(),
    "formulas": {
        "resourceType": "ConceptMap",
        "url": "urn:test:formulas",
        "version": "1",
        "status": "active",
        "group": [
            {
                "source": "urn:local",
                "target": "http://loinc.org",
                "element": [
                    {
                        "code": "-K",
                        "display": '=HYPERLINK("http://x")',
                        "target": [
                            {
                                "code": "2823-3",
                                "display": "+Potassium",
                                "equivalence": "wider",
                                "comment": "@curator",
                            }
                        ],
                    },
                    {"code": "NA", "display": "Sodium", "target": [{"equivalence": "unmatched"}]},
                ],
            }
        ],
    },
}


def mappings(resource: dict[str, Any], *, predicates: bool) -> list[tuple[str, ...]]:
    """Every (source system, code, display, target system, code, display, relationship) row."""
    found = []
    for group in resource.get("group", []):
        source = group.get("source") or resource.get("sourceUri") or resource.get("sourceCanonical") or ""
        target = group.get("target") or resource.get("targetUri") or resource.get("targetCanonical") or ""
        for element in group.get("element", []):
            if predicates and not element.get("code"):
                continue  # SSSOM has no subject for an element without a code
            for entry in element.get("target") or [{"equivalence": "unmatched"}]:
                equivalence = entry.get("equivalence", "")
                unmatched = equivalence == "unmatched" or not entry.get("code")
                relation = ("NoTermFound" if unmatched else PREDICATES.get(equivalence, "skos:relatedMatch")) if (
                    predicates
                ) else equivalence  # fmt: skip
                labels = (element.get("display", ""), entry.get("display", ""))
                if predicates:
                    labels = (labels[0].strip(), labels[1].strip())
                found.append((
                    source, element.get("code", ""), labels[0],
                    "" if predicates and unmatched else target, entry.get("code", ""), labels[1], relation,
                ))  # fmt: skip
    return sorted(found)


@pytest.mark.parametrize("format_name", list(export_formats()))
@pytest.mark.parametrize("map_name", list(MAPS))
def test_what_an_exporter_writes_reads_back_the_same(format_name: str, map_name: str) -> None:
    resource = MAPS[map_name]
    _, write = exporter(format_name)
    written = write(resource)
    back = reader(format_name)(written, version=None if resource.get("version") else "round-trip")
    lossy = format_name == "sssom"
    assert mappings(back, predicates=lossy) == mappings(resource, predicates=lossy)


def test_every_exporter_is_found_by_name_and_media_type() -> None:
    for name, media_type in export_formats().items():
        assert exporter(name)[1] is exporter(media_type)[1]
        assert reader(name) is reader(media_type)


def test_the_bundled_maps_are_all_here() -> None:
    assert len(HL7_EXAMPLES) >= 5 and all(isinstance(path, Path) for path in HL7_EXAMPLES)
