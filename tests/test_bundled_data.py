"""What `make demo` loads: every bundled code system, with its true size, on both databases."""

from __future__ import annotations

import re

import polars as pl
import pytest

from terminology.cli.main import main
from terminology.settings import get_settings
from terminology.storage.store import SqlStore
from tests.conftest import BUNDLED

EXPECTED = {
    ("urn:concordance:codesystem:cim10-fr-gnuhealth", "5.0.4"): (14_715, ("fr", "en")),
    ("http://id.who.int/icd/release/11/mms", "2024-03-certic-0.6.5"): (36_044, ("fr", "en")),
    ("http://hl7.org/fhir/sid/icd-10", "2019"): (12_542, ("en",)),
    ("http://hl7.org/fhir/sid/icd-10-cm", "2026"): (47_200, ("en",)),
    ("http://loinc.org", "fhir-r4-4.0.1-displays"): (7_844, ("en",)),
    ("http://snomed.info/sct", "fhir-r4-4.0.1-displays"): (22_786, ("en",)),
    ("http://terminology.hl7.org/CodeSystem/v2-0487", "THO-7.0.1"): (315, ("en",)),
    ("urn:concordance:codesystem:samu-hub-nomenclature", "1.9"): (286, ("fr",)),
    ("urn:concordance:codesystem:samu-hub-nomenclature", "2.3"): (357, ("fr",)),
}


def test_demo_manifest_loads_every_system_with_true_counts(
    store: SqlStore, database_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("CONCORDANCE_DATABASE_URL", database_url)
    get_settings.cache_clear()
    try:
        assert main(["load", str(BUNDLED / "bundled.toml"), "-q"]) == 0
    finally:
        get_settings.cache_clear()
    stored = {(s.url, s.version): (s.concept_count, s.languages) for s in store.code_systems()}
    assert stored == EXPECTED
    out = capsys.readouterr().out
    assert "against version 1.9: 351 added, 280 retired, 2 relabelled" in out
    icd10 = store.code_system("http://hl7.org/fhir/sid/icd-10", "2019")
    cholera = store.concept(icd10, "A00.0")
    assert cholera is not None and cholera.display == "Cholera due to Vibrio cholerae 01, biovar cholerae"


CLASSIFICATIONS = {
    # url → the number of chapters its roots must be
    "urn:concordance:codesystem:cim10-fr-gnuhealth": 22,
    "http://hl7.org/fhir/sid/icd-10": 22,
    "http://hl7.org/fhir/sid/icd-10-cm": 22,
    "http://id.who.int/icd/release/11/mms": 28,  # 26 chapters, 2 supplementary sections and X
}


def test_every_concept_of_every_bundled_classification_reaches_a_chapter(tmp_path) -> None:
    """Read on SQLite once (the load test above covers PostgreSQL): a concept cut from its
    chapter is invisible to chapter correspondences and loses its ancestors in the ranker."""
    from terminology.roots import reached_from
    from terminology.services.code_systems import hierarchy_roots
    from terminology.workbench import Concordance

    concordance = Concordance.open(f"sqlite:///{tmp_path / 'bundled.db'}")
    concordance.load(only=["CIM10FR", "CIM11MMSFR", "ICD10WHO", "ICD10CM"])
    chapter_file = (BUNDLED.parent / "mapping_rules" / "rules" / "cim11_cim10_chapters.yaml").read_text()
    for url, chapters in CLASSIFICATIONS.items():
        system = concordance.store.code_system(url)
        report = hierarchy_roots(concordance.store, system)
        assert report.check.warnings() == [], url
        assert len(report.roots) == chapters, url
        if url.startswith("http://id.who.int"):  # no kind property: the chapters are its roots
            listed = set(re.findall(r'source: "([^"]+)"', chapter_file))
            assert len(listed) == 25 and listed <= {r.code for r in report.roots}
        else:
            assert all(r.chapter for r in report.roots), url
        links = concordance.store.parents_frame(system)
        tops = pl.DataFrame({"code": [r.code for r in report.roots]})
        assert reached_from(links, tops) == system.concept_count, url
