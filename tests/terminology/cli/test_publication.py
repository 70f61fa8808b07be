"""The bundled ConceptMaps the demo serves, on SQLite and PostgreSQL."""

from __future__ import annotations

from terminology.cli.publication import publish_demo_maps
from terminology.publication.translate import MapIndex, Question, translate
from terminology.storage import conceptmaps
from terminology.storage.store import SqlStore

SAMU = "urn:concordance:codesystem:samu-hub-nomenclature"


def test_demo_maps_are_served_and_idempotent(store: SqlStore) -> None:
    printed = publish_demo_maps(store)
    assert "233 curated SAMU-Hub codes; 79 HL7 example ConceptMaps imported" in printed
    assert "$translate?url=urn:concordance:ConceptMap:samu-hub-nomenclature-1.9-2.3" in printed
    curated = conceptmaps.search_concept_maps(
        store, url="urn:concordance:ConceptMap:samu-hub-nomenclature-1.9-2.3"
    )
    assert len(curated) == 1 and curated[0].status == "active"
    matches = translate(MapIndex(curated[0].resource), Question(((SAMU, "C02.05.03"),)))
    assert [m.code for m in matches] == ["C02.18.00"]
    publish_demo_maps(store)  # again: same versions, nothing new
    assert len(conceptmaps.search_concept_maps(store)) == 80
