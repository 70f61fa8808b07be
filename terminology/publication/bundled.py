"""The maps ``make demo`` and the notebooks serve: the curated SAMU-Hub correspondence and
the HL7 FHIR R4 example ConceptMaps (real public data, provenance in ``data/README.md``)."""

from __future__ import annotations

import json
from pathlib import Path

from terminology.errors import ConcordanceError
from terminology.storage import conceptmaps
from terminology.storage.store import SqlStore


def publish_demo_maps(store: SqlStore, *, url: str = "http://127.0.0.1:8000") -> str:
    """Serve the bundled maps: the curated SAMU-Hub correspondence 1.9 → 2.3 (validated by ANS)
    as an active ConceptMap, and the HL7 example ConceptMaps as they were published."""
    import csv

    data = Path(__file__).resolve().parents[2] / "data"
    targets: dict[str, list[dict[str, str]]] = {}
    labels: dict[str, str] = {}
    with (data / "samu_nomenclature" / "samu_nomenclature_pairs.csv").open(encoding="utf-8") as handle:
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
    system = "urn:concordance:codesystem:samu-hub-nomenclature"
    curated = {
        "resourceType": "ConceptMap",
        "url": "urn:concordance:ConceptMap:samu-hub-nomenclature-1.9-2.3",
        "version": "653aed3",
        "name": "SamuHubNomenclature19To23",
        "title": "SAMU-Hub nomenclature 1.9 → 2.3 (curated correspondence, validated by ANS)",
        "status": "active",
        "publisher": "ANS / ANSC (ansforge/SAMU-Hub-Modeles)",
        "sourceUri": system,
        "targetUri": system,
        "group": [
            {
                "source": system,
                "sourceVersion": "1.9",
                "target": system,
                "targetVersion": "2.3",
                "element": [
                    {"code": code, "display": labels[code], "target": found}
                    for code, found in sorted(targets.items())
                ],
            }
        ],
    }
    stored, _ = conceptmaps.save_concept_map(store, curated)
    imported = 0
    for path in sorted((data / "hl7_conceptmaps" / "original").glob("ConceptMap-*.json")):
        try:
            conceptmaps.save_concept_map(store, json.loads(path.read_text(encoding="utf-8")))
            imported += 1
        except ConcordanceError:
            continue  # a map without url or version cannot be served as a version
    return (
        f"ConceptMap/{stored.id} {stored.url}|{stored.version}: {len(targets)} curated SAMU-Hub codes; "
        f"{imported} HL7 example ConceptMaps imported.\n"
        "Try:\n"
        f"  curl -s '{url}/fhir/ConceptMap/$translate?url={stored.url}&system={system}&code=C02.05.03'\n"
        f"  curl -s '{url}/fhir/ConceptMap/$translate?system=http://hl7.org/fhir/address-use&code=home"
        "&targetsystem=http://terminology.hl7.org/CodeSystem/v3-AddressUse'\n"
        f"  curl -s '{url}/fhir/CodeSystem/$lookup?system={system}&version=2.3&code=C02.18.00'\n"
        f"  curl -s '{url}/fhir/CodeSystem/$validate-code?url={system}&code=C02.18.00"
        "&display=Probl%C3%A8me%20psychiatrique%2C%20menace%20de%20suicide'\n"
        f"  curl -s '{url}/fhir/ConceptMap?_count=5'"
    )
