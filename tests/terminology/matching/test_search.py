"""The indexed candidate search on real labels (CIM-10 FR), against the exhaustive scan."""

from __future__ import annotations

import random

import numpy as np
import polars as pl
import pytest

from terminology.matching.normalise import default_normaliser
from terminology.matching.search import LabelIndex, SearchSettings, exhaustive_search
from tests.conftest import BUNDLED


@pytest.fixture(scope="module")
def cim10_labels() -> list[str]:
    frame = pl.read_csv(BUNDLED / "cim10_fr" / "cim10_fr_concepts.csv", infer_schema=False)
    normaliser = default_normaliser()
    return sorted({normaliser.normalise(label) for label in frame.get_column("label_fr").drop_nulls()} - {""})


@pytest.fixture(scope="module")
def cim10_index(cim10_labels: list[str]) -> LabelIndex:
    return LabelIndex(cim10_labels)


def test_exact_label_ranks_first_and_a_typo_is_still_found(
    cim10_labels: list[str], cim10_index: LabelIndex
) -> None:
    normaliser = default_normaliser()
    exact = normaliser.normalise("Choléra, sans précision")
    typo = normaliser.normalise("Cholérra, sans précision")
    hits = cim10_index.search([exact, typo], top_k=3)
    assert cim10_labels[hits[0][0].target] == exact and hits[0][0].score == pytest.approx(1.0)
    assert cim10_labels[hits[1][0].target] == exact and hits[1][0].score > 0.85
    assert [hit.score for hit in hits[0]] == sorted((hit.score for hit in hits[0]), reverse=True)


def test_scores_only_a_small_share_of_the_pairs(cim10_labels: list[str], cim10_index: LabelIndex) -> None:
    queries = random.Random(3).sample(cim10_labels, 50)
    before = cim10_index.comparisons
    cim10_index.search(queries, top_k=5)
    scored = cim10_index.comparisons - before
    settings = cim10_index.settings
    assert scored <= len(queries) * (4 * settings.shortlist + settings.keep)
    assert scored < 0.05 * len(queries) * len(cim10_labels)


def test_matches_the_exhaustive_scan_with_ties(cim10_labels: list[str], cim10_index: LabelIndex) -> None:
    """Same criterion as benchmarks/match_bench.py: each of our top 5 scores at least the
    exhaustive 5th best."""
    queries = random.Random(5).sample(cim10_labels, 60)
    queries = [" ".join(query.split()[:-1]) or query for query in queries]  # not the label itself
    found = cim10_index.search(queries, top_k=5)
    _, reference = exhaustive_search(cim10_labels, queries, top_k=5, space=cim10_index.space)
    recalled = [
        len(ours) == 5 and ours[-1].score >= float(best[-1]) - 1e-4
        for ours, best in zip(found, reference, strict=True)
    ]
    assert np.mean(recalled) >= 0.95
    for ours, best in zip(found, reference, strict=True):
        assert ours[0].score <= float(best[0]) + 1e-4  # the same scorer: never above the truth


def test_a_small_vocabulary_is_scored_whole() -> None:
    """A code table's right target may share no 3-gram with the source label."""
    labels = ["active", "suspended", "failed"]
    index = LabelIndex(labels, settings=SearchSettings(keep=8))
    hits = index.search(["on hold"], top_k=5)[0]
    assert sorted(hit.target for hit in hits) == [0, 1, 2]
    assert index.comparisons == 3


def test_a_query_with_nothing_in_common_finds_nothing(cim10_index: LabelIndex) -> None:
    assert cim10_index.search(["qqqq", ""], top_k=5) == [[], []]
