"""Indexed fuzzy search: score each query against a few hundred likely targets, not all.

Targets are indexed by their normalised tokens and by the first letters of each
token (so ``glyc`` finds ``glycemie`` and a typo late in a word still meets
its word). For a query, postings are gathered rarest key first until a
budget of candidates is reached; rapidfuzz then scores only those. Cost grows
with the sizes of the two vocabularies, not with their product.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import polars as pl
from rapidfuzz import fuzz, process

Scorer = Callable[..., float]
PREFIX = 4


def index_keys(tokens: Sequence[str]) -> set[str]:
    """The keys a tokenised label is filed under: each token, and each token's prefix.

    >>> sorted(index_keys(["glycemie", "a", "jeun"]))
    ['=a', '=glycemie', '=jeun', 'glyc']
    """
    keys = {"=" + token for token in tokens}
    keys |= {token[:PREFIX] for token in tokens if len(token) > PREFIX}
    return keys


@dataclass(frozen=True)
class Hit:
    """A target label found for a query, with its score in [0, 100]."""

    target: int
    score: float


class LabelIndex:
    """An inverted index over normalised target labels.

    >>> index = LabelIndex(["glucose sang", "glucose urine", "potassium sang"])
    >>> [(h.target, round(h.score)) for h in index.search(["glucose sang"], top_k=2)[0]]
    [(0, 100), (1, 72)]
    """

    def __init__(
        self, labels: Sequence[str], *, budget: int = 256, scorer: Scorer = fuzz.token_sort_ratio
    ) -> None:
        self.labels = np.asarray(labels, dtype=object)
        self.budget = budget
        self.scorer = scorer
        keyed = pl.DataFrame({"label": pl.Series(list(labels), dtype=pl.String)}).with_row_index("id")
        postings = (
            keyed.select(
                "id",
                pl.col("label")
                .str.split(" ")
                .list.eval(
                    pl.concat_list(
                        pl.lit("=") + pl.element(),
                        pl.when(pl.element().str.len_chars() > PREFIX).then(
                            pl.element().str.slice(0, PREFIX)
                        ),
                    )
                    .explode()
                    .drop_nulls()
                    .unique()
                )
                .alias("key"),
            )
            .explode("key")
            .drop_nulls("key")
            .group_by("key")
            .agg(pl.col("id").cast(pl.Int32))
        )
        self._postings: dict[str, np.ndarray[Any, np.dtype[np.int32]]] = {
            key: np.asarray(ids, dtype=np.int32)
            for key, ids in zip(
                postings.get_column("key").to_list(), postings.get_column("id").to_list(), strict=True
            )
        }
        self.comparisons = 0
        self._common = max(len(labels) // 5, 1000)
        self._everything = np.arange(len(labels), dtype=np.int32)

    def __len__(self) -> int:
        return len(self.labels)

    def candidates(self, query: str) -> np.ndarray[Any, np.dtype[np.int32]]:
        """The ``budget`` targets sharing the most informative keys with the query.

        Each shared key counts its inverse document frequency, so a shared rare word
        outweighs several common ones; keys filed under more than a fifth of the
        targets say nothing and are skipped. A vocabulary no larger than the budget
        is scored whole: nothing is gained by choosing.
        """
        if len(self.labels) <= self.budget:
            return self._everything
        lists = [self._postings[key] for key in index_keys(query.split()) if key in self._postings]
        lists = [ids for ids in lists if len(ids) <= self._common]
        if not lists:
            return np.empty(0, dtype=np.int32)
        ids = np.concatenate(lists)
        weights = np.repeat([self._idf(len(postings)) for postings in lists], [len(p) for p in lists])
        unique, where = np.unique(ids, return_inverse=True)
        if len(unique) <= self.budget:
            return unique
        overlap = np.bincount(where, weights=weights)
        return unique[np.argpartition(-overlap, self.budget)[: self.budget]]

    def _idf(self, frequency: int) -> float:
        return float(np.log(len(self.labels) / frequency))

    def search(self, queries: Sequence[str], *, top_k: int = 5) -> list[list[Hit]]:
        """The ``top_k`` best targets of each query, best first."""
        results: list[list[Hit]] = []
        for query in queries:
            ids = self.candidates(query)
            if len(ids) == 0:
                results.append([])
                continue
            self.comparisons += len(ids)
            scores = process.cdist([query], self.labels[ids], scorer=self.scorer, dtype=np.float32)[0]
            best = np.argsort(-scores, kind="stable")[:top_k]
            results.append([Hit(int(ids[i]), float(scores[i])) for i in best])
        return results


def exhaustive_search(
    labels: Sequence[str], queries: Sequence[str], *, top_k: int = 5, scorer: Scorer = fuzz.token_sort_ratio
) -> tuple[np.ndarray[Any, np.dtype[np.int64]], np.ndarray[Any, np.dtype[np.float32]]]:
    """Every query against every label (the reference the index is measured against):
    the ``top_k`` target ids and scores of each query, best first."""
    scores = process.cdist(queries, labels, scorer=scorer, dtype=np.float32, workers=-1)
    top = np.argpartition(-scores, kth=min(top_k, scores.shape[1] - 1), axis=1)[:, :top_k]
    ordered = np.take_along_axis(top, np.argsort(-np.take_along_axis(scores, top, axis=1), axis=1), axis=1)
    return ordered, np.take_along_axis(scores, ordered, axis=1)
