"""Indexed fuzzy search: each query label meets a few hundred likely targets, not all of them.

The score of a label pair is the mean of two views (:func:`label_similarity`):
rapidfuzz ``token_sort_ratio`` (order-free edit similarity) and the cosine of
character 3-gram TF-IDF vectors (robust to glued words, inflections, spelling
variants). Scoring every pair costs the product of the two vocabularies; the
index avoids the expensive part of that product:

1. *Probe.* Each query walks the postings of its rarest 3-grams, rarest first,
   until they hold ``coverage`` of its squared TF-IDF weight, accumulating a
   partial cosine for every target met. A target that shares none of those
   grams has a cosine of at most sqrt(1 - coverage).
2. *Shortlist.* The ``shortlist`` targets with the best partial cosine get
   their exact cosine (a merge of two sorted sparse rows).
3. *Score.* The ``keep`` best of those by cosine get the full pair score,
   rapidfuzz running on every core.

Steps 1 and 2 run compiled (numba), in parallel over queries.
``benchmarks/match_bench.py`` measures what is lost against scoring every pair.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numba
import numpy as np
from rapidfuzz import fuzz, process
from scipy import sparse

from terminology.matching.ngrams import GramSpace

BINS = 1024
"""Histogram bins used to find the shortlist's threshold without sorting every target."""
Ids = np.ndarray[Any, np.dtype[np.int32]]
Floats = np.ndarray[Any, np.dtype[np.float32]]


def label_similarity(token_ratio: Any, cosine: Any) -> Any:
    """The pair score in [0, 1]: mean of ``token_sort_ratio`` (0-100) and 3-gram cosine.
    Works on scalars and arrays alike.

    >>> label_similarity(100.0, 1.0), label_similarity(50.0, 0.0)
    (1.0, 0.25)
    """
    return (token_ratio / 100 + cosine) / 2


@dataclass(frozen=True)
class Hit:
    """A target label found for a query, with its score in [0, 1]."""

    target: int
    score: float


@dataclass(frozen=True)
class Shortlists:
    """For each query, its ``keep`` best targets by exact 3-gram cosine (-1 pads short rows)."""

    targets: Ids
    cosines: Floats
    touched: int
    """Targets met through the probed postings, summed over queries."""
    cosine_pairs: int
    """Pairs whose exact cosine was computed."""


@numba.njit(cache=True, nogil=True)
def _exact_cosine(
    q_indices: Ids, q_data: Floats, t_indices: Ids, t_data: Floats, begin: int, end: int
) -> float:
    """Dot product of a query row and a target row, both with sorted column indices."""
    total = 0.0
    i, j = 0, begin
    while i < len(q_indices) and j < end:
        left, right = q_indices[i], t_indices[j]
        if left == right:
            total += q_data[i] * t_data[j]
            i += 1
            j += 1
        elif left < right:
            i += 1
        else:
            j += 1
    return total


@numba.njit(cache=True, nogil=True)
def _shortlist_one(
    grams: Ids,
    weights: Floats,
    postings: tuple[Ids, Ids, Floats],
    rows: tuple[Ids, Ids, Floats],
    frequency: Ids,
    settings: tuple[float, int, int],
    scratch: tuple[Floats, Ids],
    out: tuple[Ids, Floats],
) -> tuple[int, int]:
    """Steps 1 and 2 of the module docstring for one query; returns (touched, exact pairs)."""
    post_indptr, post_indices, post_data = postings
    row_indptr, row_indices, row_data = rows
    coverage, shortlist, keep = settings
    partial, histogram = scratch
    out_targets, out_cosines = out
    order = np.argsort(frequency[grams], kind="mergesort")
    covered = 0.0
    for position in order:
        if covered >= coverage:
            break
        gram, weight = grams[position], weights[position]
        covered += weight * weight
        for p in range(post_indptr[gram], post_indptr[gram + 1]):
            partial[post_indices[p]] += weight * post_data[p]
    top = partial.max()
    if top <= 0.0:
        return 0, 0
    scale = (BINS - 1) / top
    histogram[:] = 0
    met = 0
    for target in range(len(partial)):  # branch-free: zeros fall in bin 0, never chosen
        value = partial[target]
        histogram[int(value * scale)] += 1
        met += value > 0.0
    above = 0
    cut = BINS - 1
    while cut > 0 and above + histogram[cut] < shortlist:
        above += histogram[cut]
        cut -= 1
    size = min(above + histogram[cut], max(4 * shortlist, above))
    chosen = np.empty(size, dtype=np.int32)
    count = 0
    spare = size - above  # room left for targets of the threshold bin, taken in id order
    for target in range(len(partial)):
        bin_of = int(partial[target] * scale)
        if bin_of >= cut and partial[target] > 0.0 and (bin_of > cut or spare > 0):  # rarely true
            spare -= bin_of == cut
            if count < size:
                chosen[count] = target
                count += 1
    exact = np.empty(count, dtype=np.float32)
    for i in range(count):
        target = chosen[i]
        exact[i] = _exact_cosine(
            grams, weights, row_indices, row_data, row_indptr[target], row_indptr[target + 1]
        )
    partial[:] = 0.0
    best = np.argsort(-exact, kind="mergesort")[:keep]
    for slot in range(len(best)):
        out_targets[slot] = chosen[best[slot]]
        out_cosines[slot] = exact[best[slot]]
    return met, count


@numba.njit(cache=True, parallel=True)
def _shortlists(
    queries: tuple[Ids, Ids, Floats],
    postings: tuple[Ids, Ids, Floats],
    rows: tuple[Ids, Ids, Floats],
    frequency: Ids,
    settings: tuple[float, int, int],
    lanes: int,
) -> tuple[Ids, Floats, int, int]:
    q_indptr, q_indices, q_data = queries
    count = len(q_indptr) - 1
    keep = int(settings[2])
    targets = np.full((count, keep), -1, dtype=np.int32)
    cosines = np.zeros((count, keep), dtype=np.float32)
    touched = np.zeros(lanes, dtype=np.int64)
    exact = np.zeros(lanes, dtype=np.int64)
    size = len(rows[0]) - 1
    for lane in numba.prange(lanes):
        partial = np.zeros(size, dtype=np.float32)
        histogram = np.zeros(BINS, dtype=np.int32)
        for query in range(lane, count, lanes):
            begin, end = q_indptr[query], q_indptr[query + 1]
            met, scored = _shortlist_one(
                q_indices[begin:end],
                q_data[begin:end],
                postings,
                rows,
                frequency,
                settings,
                (partial, histogram),
                (targets[query], cosines[query]),
            )
            touched[lane] += met
            exact[lane] += scored
    return targets, cosines, touched.sum(), exact.sum()


def _arrays(matrix: sparse.csr_matrix) -> tuple[Ids, Ids, Floats]:
    matrix = sparse.csr_matrix(matrix, dtype=np.float32, copy=True)  # sort_indices works in place
    matrix.sort_indices()
    return (
        matrix.indptr.astype(np.int32),
        matrix.indices.astype(np.int32),
        matrix.data.astype(np.float32),
    )


@dataclass(frozen=True)
class SearchSettings:
    """How hard the index looks; see the module docstring for the three steps."""

    coverage: float = 0.95
    """Share of a query's squared 3-gram weight whose postings are walked."""
    shortlist: int = 128
    """Targets per query given an exact cosine."""
    keep: int = 48
    """Targets per query given the full pair score. These three are tuned on
    ``benchmarks/match_bench.py`` (recall@5 against an exhaustive scan, and seconds): the
    figures are in the README, their history in the commits."""


class LabelIndex:
    """A 3-gram inverted index over normalised target labels.

    >>> index = LabelIndex(["glucose sang", "glucose urine", "potassium sang"])
    >>> [(hit.target, round(hit.score, 2)) for hit in index.search(["glucose sang"], top_k=2)[0]]
    [(0, 1.0), (1, 0.57)]
    """

    def __init__(self, labels: Sequence[str], *, settings: SearchSettings | None = None) -> None:
        self.labels = np.asarray(list(labels), dtype=object)
        self.space = GramSpace(list(labels))
        self.settings = settings or SearchSettings()
        self._rows = _arrays(self.space.targets)
        self._postings = _arrays(self.space.targets.T.tocsr())
        self._frequency = np.diff(self._postings[0]).astype(np.int32)
        self.touched = 0
        """Targets met through the index, summed over queries."""
        self.comparisons = 0
        """Label pairs given an exact score (cosine, then the full score for the kept ones)."""
        self.shortlists([""])  # compiles the kernels (or loads them from numba's cache) now

    def __len__(self) -> int:
        return len(self.labels)

    def shortlists(self, queries: Sequence[str]) -> Shortlists:
        """Steps 1 and 2: the best targets of each query by exact 3-gram cosine."""
        vectors = _arrays(self.space.vectors(list(queries)))
        lanes = max(numba.get_num_threads() * 4, 1)
        wanted = (self.settings.coverage, self.settings.shortlist, self.settings.keep)
        targets, cosines, touched, exact = _shortlists(
            vectors, self._postings, self._rows, self._frequency, wanted, lanes
        )
        return Shortlists(targets, cosines, int(touched), int(exact))

    def search(self, queries: Sequence[str], *, top_k: int = 5) -> list[list[Hit]]:
        """The ``top_k`` best targets of each query by :func:`label_similarity`, best first.
        A vocabulary no larger than ``keep`` is scored whole: nothing is gained by choosing,
        and a code table's targets may share no 3-gram with the right source label."""
        rows, targets, scores = self.search_pairs(queries, top_k=top_k)
        found: list[list[Hit]] = [[] for _ in queries]
        for row, target, score in zip(rows.tolist(), targets.tolist(), scores.tolist(), strict=True):
            found[row].append(Hit(target, score))
        return found

    def search_pairs(
        self, queries: Sequence[str], *, top_k: int = 5
    ) -> tuple[np.ndarray[Any, np.dtype[np.int64]], Ids, Floats]:
        """:meth:`search` as three flat arrays (query number, target number, score), each
        query's hits best first: what bulk matching joins on, with no object per hit."""
        return self.search_with_cosines(queries, top_k=top_k, cosine_k=0)[0]

    def search_with_cosines(
        self, queries: Sequence[str], *, top_k: int = 5, cosine_k: int = 5
    ) -> tuple[Flat, Flat]:
        """:meth:`search_pairs`, and from the same shortlist each query's ``cosine_k`` best
        targets by 3-gram TF-IDF cosine alone, best first — the evidence of a plain TF-IDF
        matcher, which the ranker may lean on where nothing else helps."""
        if len(self) <= self.settings.keep:
            ids, best = exhaustive_search(list(self.labels), queries, top_k=top_k, space=self.space)
            self.comparisons += len(queries) * len(self)
            found_targets = ids.astype(np.int32)
            scores = best.astype(np.float32)
            cosines = (self.space.vectors(list(queries)) @ self.space.targets.T).toarray().astype(np.float32)
            by_cosine = np.argsort(-cosines, axis=1, kind="stable")[:, :cosine_k].astype(np.int32)
            cosine_values = np.take_along_axis(cosines, by_cosine, axis=1)
        else:
            found = self.shortlists(queries)
            rows, slots = np.nonzero(found.targets >= 0)
            targets = found.targets[rows, slots]
            texts = np.asarray(list(queries), dtype=object)
            ratios = process.cpdist(
                texts[rows], self.labels[targets], scorer=fuzz.token_sort_ratio, dtype=np.float32, workers=-1
            )
            scores = np.full(found.targets.shape, -1.0, dtype=np.float32)
            scores[rows, slots] = label_similarity(np.asarray(ratios), found.cosines[rows, slots])
            self.touched += found.touched
            self.comparisons += found.cosine_pairs + len(rows)
            order = np.argsort(-scores, axis=1, kind="stable")[:, :top_k]
            found_targets = np.take_along_axis(found.targets, order, axis=1)
            scores = np.take_along_axis(scores, order, axis=1)
            ranked = np.where(found.targets >= 0, found.cosines, -1.0)
            by_slot = np.argsort(-ranked, axis=1, kind="stable")[:, :cosine_k]
            by_cosine = np.take_along_axis(found.targets, by_slot, axis=1)
            cosine_values = np.take_along_axis(ranked, by_slot, axis=1).astype(np.float32)
        return _flat(found_targets, scores), _flat(by_cosine, cosine_values)


Flat = tuple[np.ndarray[Any, np.dtype[np.int64]], Ids, Floats]
"""Query numbers, target numbers and scores of every hit, each query's best first."""


def _flat(targets: np.ndarray[Any, Any], scores: np.ndarray[Any, Any]) -> Flat:
    query_rows = np.repeat(np.arange(targets.shape[0], dtype=np.int64), targets.shape[1])
    flat_targets, flat_scores = targets.ravel().astype(np.int32), scores.ravel().astype(np.float32)
    kept = (flat_scores >= 0) & (flat_targets >= 0)
    return query_rows[kept], flat_targets[kept], flat_scores[kept]


def exhaustive_search(
    labels: Sequence[str], queries: Sequence[str], *, top_k: int = 5, space: GramSpace | None = None
) -> tuple[np.ndarray[Any, np.dtype[np.int64]], np.ndarray[Any, np.dtype[np.float32]]]:
    """Every query against every label with :func:`label_similarity` (the reference the
    index is measured against): the ``top_k`` target ids and scores of each query, best first.
    rapidfuzz runs on every core; the cosines come from one sparse product."""
    space = space or GramSpace(list(labels))
    ratios = process.cdist(queries, labels, scorer=fuzz.token_sort_ratio, dtype=np.float32, workers=-1)
    cosines = (space.vectors(list(queries)) @ space.targets.T).toarray().astype(np.float32)
    scores = label_similarity(ratios, cosines)
    top = np.argpartition(-scores, kth=min(top_k, scores.shape[1] - 1), axis=1)[:, :top_k]
    ordered = np.take_along_axis(top, np.argsort(-np.take_along_axis(scores, top, axis=1), axis=1), axis=1)
    return ordered, np.take_along_axis(scores, ordered, axis=1)


def pair_similarity(left: str, right: str) -> float:
    """The pair score of two labels on their own, for a target a curator picked by hand:
    the same blend as :func:`label_similarity`, with plain 3-gram counts (no vocabulary
    to weigh them against).

    >>> round(pair_similarity("glucose sang", "glucose sang"), 2), pair_similarity("", "x")
    (1.0, 0.0)
    """
    if not left or not right:
        return 0.0

    def grams(text: str) -> dict[str, int]:
        padded = f" {text} "
        counts: dict[str, int] = {}
        for start in range(len(padded) - 2):
            counts[padded[start : start + 3]] = counts.get(padded[start : start + 3], 0) + 1
        return counts

    a, b = grams(left), grams(right)
    dot = sum(count * b.get(gram, 0) for gram, count in a.items())
    norm = (sum(c * c for c in a.values()) * sum(c * c for c in b.values())) ** 0.5
    return float(label_similarity(fuzz.token_sort_ratio(left, right), dot / norm if norm else 0.0))
