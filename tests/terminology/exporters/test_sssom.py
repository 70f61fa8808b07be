"""Candidates as SSSOM: the predicate says what the model predicts, the confidence is its
calibrated probability, and the file passes ``sssom validate``."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from sssom.parsers import parse_sssom_table

from terminology.exporters.sssom import write_sssom
from terminology.models import Candidate, CodeSystem, MatchMethod
from tests.sssom_validate import assert_passes_sssom_validate

SOURCE = CodeSystem.model_construct(url="urn:test:source", version="1", name="SRC", languages=("fr",))
TARGET = CodeSystem.model_construct(url="http://hl7.org/fhir/sid/icd-10", version="2019", name="ICD10")


def candidate(target: str, equivalence: str, score: float, rank: int) -> Candidate:
    return Candidate(
        source_code="1D47",
        source_label="Fièvre jaune",
        target_code=target,
        target_label=f"label {target}",
        rank=rank,
        score=score,
        equivalence=equivalence,
        method=MatchMethod.LEXICAL,
        reason='labels "Fièvre jaune" ~ "Fièvre jaune" 1.0 (in fr); ranked by the default model: p = 0.99',
    )


@pytest.mark.parametrize(
    ("equivalence", "predicate"),
    [
        ("equivalent", "skos:exactMatch"),
        ("wider", "skos:broadMatch"),
        ("narrower", "skos:narrowMatch"),
        ("relatedto", "skos:relatedMatch"),
    ],
)
def test_predicate_follows_the_predicted_equivalence(
    equivalence: str, predicate: str, tmp_path: Path
) -> None:
    out = io.StringIO()
    found = [candidate("A95", equivalence, 0.9871, 1), candidate("A95.9", "equivalent", 0.0004, 2)]
    write_sssom(
        found, SOURCE, TARGET, out, mapping_set_id="urn:test:set", source_displays={}, target_displays={}
    )
    path = tmp_path / "candidates.sssom.tsv"
    path.write_text(out.getvalue(), encoding="utf-8")
    frame = parse_sssom_table(path).df
    rows = dict(
        zip(frame["object_id"], zip(frame["predicate_id"], frame["confidence"], strict=True), strict=True)
    )
    assert rows["ICD10:A95"] == (predicate, pytest.approx(0.9871))
    assert rows["ICD10:A95.9"] == ("skos:exactMatch", pytest.approx(0.0004))  # confidence says how sure
    assert "(*)" not in out.getvalue()
    assert_passes_sssom_validate(path)
