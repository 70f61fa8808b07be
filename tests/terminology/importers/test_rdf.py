"""The ``owl`` (owlready2) and ``skos`` (rdflib) importers."""

from __future__ import annotations

from pathlib import Path

import pytest

from terminology.errors import SourceFileError, UnsafeXmlError
from terminology.importers import importer_class
from terminology.models import DesignationUse
from terminology.services.importing import import_code_system
from terminology.storage.store import SqlStore
from tests.conftest import FIXTURES, table_counts

OWL_FILE = FIXTURES / "cim10_sample.owl"
TURTLE = FIXTURES / "samu_nomenclature_sample.ttl"


def run(store: SqlStore, format_name: str, path: Path, **options: object):
    return import_code_system(store, importer_class(format_name).with_options(dict(options)), path)


def test_owl_classes_labels_and_subclass_of(store: SqlStore) -> None:
    system = run(store, "owl", OWL_FILE, language="fr").code_system
    assert (system.url, system.version, system.concept_count) == (
        "http://purl.bioontology.org/ontology/ICD10",
        "2019",
        7,
    )
    assert set(system.languages) == {"en", "fr"}
    cholera = store.concept(system, "A00.0")
    assert cholera is not None
    assert cholera.display == "Choléra : A Vibrio cholerae 01, biovar cholerae"
    assert cholera.parents == ("A00",)
    assert ("en", DesignationUse.SYNONYM, "Classical cholera") in {
        (d.language, d.use, d.value) for d in cholera.designations
    }
    typhoid = store.concept(system, "A01.0")
    assert typhoid is not None and typhoid.definition == "Infection due to Salmonella typhi"
    dengue = store.concept(system, "A90")
    assert dengue is not None and dengue.active is False
    assert store.children(system, "A00") == ["A00.0", "A00.9"]


def test_skos_turtle_scheme_notation_broader_and_narrower(store: SqlStore) -> None:
    system = run(store, "skos", TURTLE).code_system
    assert (system.url, system.version, system.title) == (
        "urn:concordance:samu-hub:",
        "2.3",
        "Nomenclatures SAMU-Hub / CISU",
    )
    assert system.concept_count == 8 and system.languages == ("fr",)
    assert store.children(system, "CIRCONSTANCES") == ["C02.18.00", "C02.19.04", "C02.19.05"]
    bleeding = store.concept(system, "M09.02.01")
    assert bleeding is not None and bleeding.display == "Hémorragie digestive (haute ou basse) extériorisée"
    assert bleeding.parents == ("MOTIF",) and bleeding.definition == "Saignement digestif visible."
    assert [c.code for c in store.concepts(system, search="exteriorir")] == ["M09.02.01"]


def test_skos_codes_from_iris(store: SqlStore) -> None:
    system = run(store, "skos", TURTLE, code_from="iri").code_system
    assert store.concept(system, "urn:concordance:samu-hub:C02.19.05") is not None


def test_xml_external_entity_is_refused_for_owl_and_rdf(store: SqlStore, tmp_path: Path) -> None:
    text = (
        OWL_FILE.read_text(encoding="utf-8")
        .replace(
            '<?xml version="1.0" encoding="UTF-8"?>',
            '<?xml version="1.0" encoding="UTF-8"?>\n<!DOCTYPE rdf:RDF [<!ENTITY x SYSTEM "file:///etc/hostname">]>',
        )
        .replace(">Cholera<", ">&x;<")
    )
    for name, format_name in (("evil.owl", "owl"), ("evil.rdf", "skos")):
        path = tmp_path / name
        path.write_text(text, encoding="utf-8")
        with pytest.raises(UnsafeXmlError, match="entity 'x'"):
            run(store, format_name, path)
    assert table_counts(store)["code_system"] == 0


def test_malformed_turtle_and_owl_are_refused(store: SqlStore, tmp_path: Path) -> None:
    bad = tmp_path / "bad.ttl"
    bad.write_text(
        TURTLE.read_text(encoding="utf-8").replace('skos:prefLabel "Litige"@fr', 'skos:prefLabel "Litige'),
        encoding="utf-8",
    )
    with pytest.raises(SourceFileError, match="malformed RDF"):
        run(store, "skos", bad)
    cut = tmp_path / "cut.owl"
    cut.write_text(OWL_FILE.read_text(encoding="utf-8")[:1500], encoding="utf-8")
    with pytest.raises(SourceFileError, match="malformed XML") as caught:
        run(store, "owl", cut)
    assert caught.value.line is not None
    assert table_counts(store)["code_system"] == 0
