"""Character 3-gram TF-IDF vectors of labels, and cosine neighbours between two sets.

Robust where token scorers are brittle: short labels, glued or misspelt words,
abbreviations the vocabulary files do not know yet.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import polars as pl
from scipy import sparse

GRAM = 3


def _grams(labels: Sequence[str]) -> pl.DataFrame:
    padded = pl.lit(" ") + pl.col("label") + pl.lit(" ")
    return (
        pl.DataFrame({"label": pl.Series(list(labels), dtype=pl.String)})
        .with_row_index("row")
        .select("row", pl.int_ranges(0, padded.str.len_chars() - GRAM + 1).alias("at"), padded.alias("text"))
        .explode("at")
        .drop_nulls("at")
        .select("row", pl.col("text").str.slice(pl.col("at"), GRAM).alias("gram"))
    )


class GramSpace:
    """TF-IDF weights fitted on target labels; vectors are L2-normalised, so a dot
    product is a cosine.

    >>> space = GramSpace(["glucose sang", "potassium sang"])
    >>> near, far = space.cosines(space.vectors(["glucose"]), [0, 0], [0, 1])
    >>> bool(near > far)
    True
    """

    def __init__(self, targets: Sequence[str]) -> None:
        grams = _grams(targets)
        self.vocabulary = grams.select("gram").unique(maintain_order=True).with_row_index("column")
        frequency = grams.unique().group_by("gram").len()
        self.idf = frequency.select("gram", (np.log(max(len(targets), 1) / pl.col("len")) + 1).alias("idf"))
        self.targets = self.vectors(targets, grams)
        self._by_column = self.targets.T.tocsr()

    def vectors(self, labels: Sequence[str], grams: pl.DataFrame | None = None) -> sparse.csr_matrix:
        grams = _grams(labels) if grams is None else grams
        counts = (
            grams.group_by("row", "gram").len().join(self.vocabulary, on="gram").join(self.idf, on="gram")
        )
        matrix = sparse.csr_matrix(
            (
                (counts.get_column("len") * counts.get_column("idf")).to_numpy(),
                (counts.get_column("row").to_numpy(), counts.get_column("column").to_numpy()),
            ),
            shape=(len(labels), self.vocabulary.height),
        )
        norms = np.sqrt(np.asarray(matrix.multiply(matrix).sum(axis=1)).ravel())
        norms[norms == 0] = 1
        return sparse.csr_matrix(sparse.diags(1 / norms) @ matrix)

    def neighbours(
        self, vectors: sparse.csr_matrix, k: int, chunk: int = 2048
    ) -> list[tuple[int, int, float]]:
        """(query row, target, cosine) for the ``k`` nearest targets of each query vector.
        Scores stay sparse: only targets sharing a 3-gram with the query are looked at."""
        found: list[tuple[int, int, float]] = []
        for start in range(0, vectors.shape[0], chunk):
            scores = sparse.csr_matrix(vectors[start : start + chunk] @ self._by_column)
            for offset in range(scores.shape[0]):
                begin, end = scores.indptr[offset], scores.indptr[offset + 1]
                values, columns = scores.data[begin:end], scores.indices[begin:end]
                if len(values) > k:
                    keep = np.argpartition(-values, k - 1)[:k]
                    values, columns = values[keep], columns[keep]
                found.extend(
                    (start + offset, int(c), float(v)) for c, v in zip(columns, values, strict=True) if v > 0
                )
        return found

    def cosines(
        self, vectors: sparse.csr_matrix, rows: Sequence[int], targets: Sequence[int]
    ) -> np.ndarray[Any, np.dtype[np.float64]]:
        """The cosine of each (query row, target number) pair."""
        left = vectors[np.asarray(rows, dtype=np.int64)]
        right = self.targets[np.asarray(targets, dtype=np.int64)]
        return np.asarray(left.multiply(right).sum(axis=1)).ravel()
