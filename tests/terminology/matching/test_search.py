"""The indexed candidate search on real labels (CIM-10 FR)."""

from __future__ import annotations

import polars as pl
import pytest

from terminology.matching.normalise import default_normaliser
from terminology.matching.search import LabelIndex, exhaustive_search
from tests.conftest import BUNDLED


@pytest.fixture(scope="module")
def cim10_labels() -> list[str]:
    frame = pl.read_csv(BUNDLED / "cim10_fr" / "cim10_fr_concepts.csv", infer_schema=False)
    normaliser = default_normaliser()
    return sorted({normaliser.normalise(label) for label in frame.get_column("label_fr").drop_nulls()} - {""})


def test_exact_label_ranks_first_and_a_typo_is_still_found(cim10_labels: list[str]) -> None:
    index = LabelIndex(cim10_labels)
    normaliser = default_normaliser()
    exact = normaliser.normalise("Choléra, sans précision")
    typo = normaliser.normalise("Cholérra, sans précision")
    hits = index.search([exact, typo], top_k=3)
    assert cim10_labels[hits[0][0].target] == exact and hits[0][0].score == 100
    assert cim10_labels[hits[1][0].target] == exact and hits[1][0].score > 90


def test_candidates_stay_within_the_budget(cim10_labels: list[str]) -> None:
    index = LabelIndex(cim10_labels, budget=50)
    query = default_normaliser().normalise("Tumeur maligne du poumon, sans précision")
    candidates = index.candidates(query)
    assert 0 < len(candidates) <= 50
    assert len(set(candidates.tolist())) == len(candidates)


def test_agrees_with_the_exhaustive_scan_when_the_budget_covers_all(cim10_labels: list[str]) -> None:
    labels = cim10_labels[:400]
    index = LabelIndex(labels, budget=len(labels))
    queries = [labels[7], labels[120], labels[333]]
    found = index.search(queries, top_k=5)
    _, scores = exhaustive_search(labels, queries, top_k=5)
    for ours, reference in zip(found, scores, strict=True):
        assert [round(hit.score, 3) for hit in ours][:1] == [round(float(reference[0]), 3)]
    assert index.comparisons <= 3 * len(labels)
