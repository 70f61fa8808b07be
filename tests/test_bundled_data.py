"""What `make demo` loads: every bundled code system, with its true size, on both databases."""

from __future__ import annotations

import pytest

from terminology.cli.main import main
from terminology.settings import get_settings
from terminology.storage.store import SqlStore
from tests.conftest import BUNDLED

EXPECTED = {
    ("urn:concordance:codesystem:cim10-fr-gnuhealth", "5.0.4"): (14_700, ("fr", "en")),
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
