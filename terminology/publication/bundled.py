"""The maps ``make demo`` and the notebooks serve: the curated SAMU-Hub correspondence and
the HL7 FHIR R4 example ConceptMaps (real public data, provenance in ``data/README.md``).
:func:`terminology.services.concept_maps.serve_bundled_maps` stores them."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

from terminology.publication.conceptmap import implicit_value_set

DATA = Path(__file__).resolve().parents[2] / "data"
SAMU_SYSTEM = "urn:concordance:codesystem:samu-hub-nomenclature"
HL7_EXAMPLES = tuple(sorted((DATA / "hl7_conceptmaps" / "original").glob("ConceptMap-*.json")))


def samu_correspondence() -> dict[str, Any]:
    """The ANS-validated SAMU-Hub nomenclature correspondence 1.9 → 2.3 as an active R4
    ConceptMap (codes without a validated target are ``unmatched``)."""
    targets: dict[str, list[dict[str, str]]] = {}
    labels: dict[str, str] = {}
    with (DATA / "samu_nomenclature" / "samu_nomenclature_pairs.csv").open(encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            if row["source_version"] != "1.9" or row["validation_ans"] != "OK":
                continue
            labels[row["source_code"]] = row["source_label"]
            entry = (
                {"code": row["target_code"], "display": row["target_label"], "equivalence": "equivalent"}
                if row["target_code"]
                else {"equivalence": "unmatched"}
            )
            targets.setdefault(row["source_code"], []).append(entry)
    return {
        "resourceType": "ConceptMap",
        "url": "urn:concordance:ConceptMap:samu-hub-nomenclature-1.9-2.3",
        "version": "653aed3",
        "name": "SamuHubNomenclature19To23",
        "title": "SAMU-Hub nomenclature 1.9 → 2.3 (curated correspondence, validated by ANS)",
        "status": "active",
        "publisher": "ANS / ANSC (ansforge/SAMU-Hub-Modeles)",
        "sourceCanonical": implicit_value_set(SAMU_SYSTEM),
        "targetCanonical": implicit_value_set(SAMU_SYSTEM),
        "group": [
            {
                "source": SAMU_SYSTEM,
                "sourceVersion": "1.9",
                "target": SAMU_SYSTEM,
                "targetVersion": "2.3",
                "element": [
                    {"code": code, "display": labels[code], "target": found}
                    for code, found in sorted(targets.items())
                ],
            }
        ],
    }
