"""Lexical evidence, one language at a time.

A French label is compared with French labels and an English one with English
ones: comparing ``Choléra`` with ``Cholera due to Vibrio cholerae`` across
languages only adds noise, while CIM-10 and CIM-11 both carry English labels
that are worth comparing on their own. Each language both systems share is
searched with the 3-gram index (:mod:`terminology.matching.search`), and any
(source, target) pair, however it was proposed, can be given the same
similarities afterwards (:class:`PairSimilarities`), so the ranker compares
like with like.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numba
import numpy as np
import polars as pl
from rapidfuzz import fuzz, process
from scipy import sparse

from terminology.matching.ngrams import GramSpace
from terminology.matching.search import LabelIndex, label_similarity

ANY_LANGUAGE = "*"
"""The one group labels fall in when the two systems share no language."""
Floats = np.ndarray[Any, np.dtype[np.float32]]


def language_of(frame: pl.DataFrame, languages: tuple[str, ...] | None) -> pl.DataFrame:
    """``frame`` with a ``lang`` column: the primary subtag (``fr-FR`` → ``fr``) when it is
    one of ``languages``, :data:`ANY_LANGUAGE` for every label when there are none."""
    if not languages:
        return frame.with_columns(pl.lit(ANY_LANGUAGE).alias("lang"))
    primary = pl.col("language").fill_null("").str.split("-").list.first()
    return frame.with_columns(primary.alias("lang")).filter(pl.col("lang").is_in(list(languages)))


BASELINE_K = 10
"""How many of each source's best targets by 3-gram TF-IDF cosine alone are kept, per
language: their cosine and rank are the baseline's evidence (a ``tfidf_rank`` beyond this is
unknown, read as "not near the top")."""

HIT_SCHEMA: dict[str, pl.DataType | type[pl.DataType]] = {
    "source_code": pl.String,
    "target_code": pl.String,
    "lang": pl.String,
    "score": pl.Float64,
    "source_label": pl.String,
    "target_label": pl.String,
    "rewrites": pl.List(pl.String),
}
COSINE_SCHEMA: dict[str, pl.DataType | type[pl.DataType]] = {
    "source_code": pl.String,
    "target_code": pl.String,
    "tfidf_cos": pl.Float64,
    "tfidf_rank": pl.Int32,
}


def lexical_hits(
    source: pl.DataFrame,
    target: pl.DataFrame,
    languages: tuple[str, ...] | None,
    *,
    per_language: int,
    progress: Callable[[int], None] = lambda _: None,
) -> pl.DataFrame:
    """The ``per_language`` best targets of each source concept in each shared language,
    over all their labels (display, preferred, synonyms): ``source_code``, ``target_code``,
    ``lang``, ``score`` and the label pair that scored it."""
    return lexical_search(source, target, languages, per_language=per_language, progress=progress)[0]


def lexical_search(
    source: pl.DataFrame,
    target: pl.DataFrame,
    languages: tuple[str, ...] | None,
    *,
    per_language: int,
    cosine_k: int = BASELINE_K,
    progress: Callable[[int], None] = lambda _: None,
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """:func:`lexical_hits`, and each source's ``cosine_k`` best targets by 3-gram TF-IDF
    cosine over all its labels, in any shared language (``source_code``, ``target_code``,
    ``tfidf_cos``: the best cosine of their label pairs, ``tfidf_rank``: 1 for the source's
    best target, ties broken by target code) — found by the same search, at no extra walk."""
    source, target = language_of(source, languages), language_of(target, languages)
    no_rewrite = pl.lit([], dtype=pl.List(pl.String)).alias("rewrites")
    if "rewrites" not in source.columns:
        source = source.with_columns(no_rewrite)
    if "rewrites" not in target.columns:
        target = target.with_columns(no_rewrite)
    found: list[pl.DataFrame] = []
    near: list[pl.DataFrame] = []
    for lang in sorted(set(source.get_column("lang").unique()) & set(target.get_column("lang").unique())):
        queries = source.filter(pl.col("lang") == lang)
        targets = target.filter(pl.col("lang") == lang)
        target_norms = targets.get_column("norm").unique(maintain_order=True).to_list()
        query_norms = queries.get_column("norm").unique(maintain_order=True).to_list()
        if not target_norms or not query_norms:
            continue
        index = LabelIndex(target_norms)
        chunks: list[pl.DataFrame] = []
        cosine_chunks: list[pl.DataFrame] = []
        step = 4000
        for start in range(0, len(query_norms), step):
            chunk = query_norms[start : start + step]
            (rows, hit_targets, scores), (c_rows, c_targets, cosines) = index.search_with_cosines(
                chunk, top_k=2 * per_language, cosine_k=cosine_k
            )
            chunks.append(_numbered_hits(rows + start, hit_targets, "score", scores))
            cosine_chunks.append(_numbered_hits(c_rows + start, c_targets, "tfidf_cos", cosines))
            progress(len(chunk))
        # Hits are label *numbers* until the best are chosen: a million rows of two strings
        # each, joined and sorted, were the largest transient of a CIM-11 match.
        codes_s = (
            queries.select(source_code="code", norm="norm")
            .unique()
            .join(_numbered(query_norms, "q"), on="norm")
        )
        codes_t = (
            targets.select(target_code="code", norm="norm")
            .unique()
            .join(_numbered(target_norms, "t"), on="norm")
        )
        near.append(
            pl.concat(cosine_chunks)
            .join(codes_s.select("source_code", "q"), on="q")
            .join(codes_t.select("target_code", "t"), on="t")
            .select("source_code", "target_code", "tfidf_cos")
        )
        found.append(_best_pairs(pl.concat(chunks), queries, targets, codes_s, codes_t, lang, per_language))
    hits = pl.concat(found) if found else pl.DataFrame(schema=HIT_SCHEMA)
    return hits, _cosine_ranks(near, cosine_k)


def _numbered(norms: list[str], name: str) -> pl.DataFrame:
    """Each distinct normalised label with its number in the search (``q`` or ``t``)."""
    return pl.DataFrame({"norm": pl.Series(norms, dtype=pl.String)}).with_row_index(name)


def _numbered_hits(
    queries: np.ndarray[Any, Any], targets: np.ndarray[Any, Any], name: str, values: np.ndarray[Any, Any]
) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "q": pl.Series(queries, dtype=pl.UInt32),
            "t": pl.Series(targets, dtype=pl.UInt32),
            name: pl.Series(values, dtype=pl.Float64),
        }
    )


def _best_pairs(
    pairs: pl.DataFrame,
    queries: pl.DataFrame,
    targets: pl.DataFrame,
    codes_s: pl.DataFrame,
    codes_t: pl.DataFrame,
    lang: str,
    per_language: int,
) -> pl.DataFrame:
    """Each source's ``per_language`` best targets from the label pairs found (by label
    number), with the labels that scored them, joined only to the pairs kept."""
    best = (
        pairs.join(codes_s.select("source_code", "q"), on="q")
        .join(codes_t.select("target_code", "t"), on="t")
        .sort("score", "target_code", descending=[True, False])
        .unique(["source_code", "target_code"], keep="first")
        .sort("score", "target_code", descending=[True, False])
        .filter(pl.int_range(pl.len()).over("source_code") < per_language)
    )
    source_labels = (
        queries.select(source_code="code", norm="norm", source_label="label", source_rewrites="rewrites")
        .unique(["source_code", "norm"], keep="first", maintain_order=True)
        .join(codes_s.select("source_code", "norm", "q"), on=["source_code", "norm"])
        .drop("norm")
    )
    target_labels = (
        targets.select(target_code="code", norm="norm", target_label="label", target_rewrites="rewrites")
        .unique(["target_code", "norm"], keep="first", maintain_order=True)
        .join(codes_t.select("target_code", "norm", "t"), on=["target_code", "norm"])
        .drop("norm")
    )
    return (
        best.join(source_labels, on=["source_code", "q"], how="left", maintain_order="left")
        .join(target_labels, on=["target_code", "t"], how="left", maintain_order="left")
        .select(
            "source_code",
            "target_code",
            pl.lit(lang).alias("lang"),
            "score",
            "source_label",
            "target_label",
            pl.concat_list("source_rewrites", "target_rewrites")
            .list.unique(maintain_order=True)
            .alias("rewrites"),
        )
    )


def _cosine_ranks(near: list[pl.DataFrame], cosine_k: int) -> pl.DataFrame:
    """Each source's ``cosine_k`` best targets by their best cosine, ranked (ties by code)."""
    if not near:
        return pl.DataFrame(schema=COSINE_SCHEMA)
    return (
        pl.concat(near)
        .group_by("source_code", "target_code")
        .agg(pl.col("tfidf_cos").max())
        .sort(["source_code", "tfidf_cos", "target_code"], descending=[False, True, False])
        .with_columns(pl.int_range(1, pl.len() + 1, dtype=pl.Int32).over("source_code").alias("tfidf_rank"))
        .filter(pl.col("tfidf_rank") <= cosine_k)
        .select(list(COSINE_SCHEMA))
    )


def preferred_labels(frame: pl.DataFrame, languages: tuple[str, ...] | None) -> pl.DataFrame:
    """One label per concept and language (``code``, ``lang``, ``label``, ``norm``): the
    display where it is in that language, else a preferred designation, else any label."""
    rank = (
        pl.when(pl.col("use") == "display")
        .then(0)
        .when(pl.col("use") == "preferred")
        .then(1)
        .when(pl.col("use") == "fully-specified")
        .then(3)
        .otherwise(2)
    )
    return (
        language_of(frame, languages)
        .with_columns(rank.alias("preference"))
        .sort("code", "lang", "preference", maintain_order=True)
        .unique(["code", "lang"], keep="first", maintain_order=True)
        .select("code", "lang", "label", "norm")
    )


@numba.njit(cache=True, parallel=True, nogil=True)
def _row_dots(
    left: tuple[Any, Any, Any], right: tuple[Any, Any, Any], left_rows: Any, right_rows: Any
) -> Floats:
    """Dot product of ``left[left_rows[i]]`` and ``right[right_rows[i]]`` for every ``i``;
    both matrices are CSR with sorted column indices."""
    l_indptr, l_indices, l_data = left
    r_indptr, r_indices, r_data = right
    out = np.zeros(len(left_rows), dtype=np.float32)
    for i in numba.prange(len(left_rows)):
        a, b = left_rows[i], right_rows[i]
        p, p_end = l_indptr[a], l_indptr[a + 1]
        q, q_end = r_indptr[b], r_indptr[b + 1]
        total = 0.0
        while p < p_end and q < q_end:
            if l_indices[p] == r_indices[q]:
                total += l_data[p] * r_data[q]
                p += 1
                q += 1
            elif l_indices[p] < r_indices[q]:
                p += 1
            else:
                q += 1
        out[i] = total
    return out


def row_dots(
    left: sparse.csr_matrix,
    right: sparse.csr_matrix,
    left_rows: np.ndarray[Any, Any],
    right_rows: np.ndarray[Any, Any],
) -> Floats:
    """Row-wise dot products of chosen rows of two sparse matrices, without building the pairs.

    >>> a = sparse.csr_matrix(np.array([[1.0, 2.0, 0.0], [0.0, 0.0, 3.0]]))
    >>> row_dots(a, a, np.array([0, 1, 0]), np.array([0, 1, 1])).tolist()
    [5.0, 9.0, 0.0]
    """

    def arrays(matrix: sparse.csr_matrix) -> tuple[Any, Any, Any]:
        matrix = sparse.csr_matrix(matrix, dtype=np.float32, copy=True)
        matrix.sort_indices()
        return matrix.indptr.astype(np.int64), matrix.indices.astype(np.int32), matrix.data

    return _row_dots(
        arrays(left),
        arrays(right),
        np.asarray(left_rows, dtype=np.int64),
        np.asarray(right_rows, dtype=np.int64),
    )


@dataclass(frozen=True)
class PairSimilarities:
    """How alike the preferred labels of two concepts are in one language.

    ``tsr`` is rapidfuzz ``token_sort_ratio`` in [0, 1], ``cosine`` the 3-gram TF-IDF
    cosine (weights fitted on the target labels), ``similarity`` the engine's blend of the
    two, ``source_cover`` / ``target_cover`` the share of each side's word weight (IDF) that
    the other side has: rare shared words matter more than ``de`` or ``other``.
    """

    tsr: Floats
    cosine: Floats
    similarity: Floats
    source_cover: Floats
    target_cover: Floats

    @classmethod
    def of(
        cls, source_norms: list[str], target_norms: list[str], target_vocabulary: list[str]
    ) -> PairSimilarities:
        """Similarities of each (``source_norms[i]``, ``target_norms[i]``) pair.

        >>> s = PairSimilarities.of(["cholera"], ["cholera sans precision"], ["cholera", "fievre typhoide"])
        >>> round(float(s.source_cover[0]), 2), bool(s.target_cover[0] < 1)
        (1.0, True)
        """
        unique_s = sorted(set(source_norms))
        unique_t = sorted(set(target_norms))
        s_row = {text: i for i, text in enumerate(unique_s)}
        t_row = {text: i for i, text in enumerate(unique_t)}
        left = np.fromiter((s_row[text] for text in source_norms), dtype=np.int64, count=len(source_norms))
        right = np.fromiter((t_row[text] for text in target_norms), dtype=np.int64, count=len(target_norms))
        return cls.of_indexed(unique_s, unique_t, left, right, target_vocabulary)

    @classmethod
    def of_indexed(
        cls,
        unique_s: list[str],
        unique_t: list[str],
        left: np.ndarray[Any, np.dtype[np.int64]],
        right: np.ndarray[Any, np.dtype[np.int64]],
        target_vocabulary: list[str],
    ) -> PairSimilarities:
        """:meth:`of` for pairs given as positions in two lists of distinct labels: a full
        match's 1.8 million pairs name a few tens of thousands of labels, and are never
        spelt out as strings (the pair arrays below reference the same string objects)."""
        if not len(left):
            empty = np.zeros(0, dtype=np.float32)
            return cls(empty, empty, empty, empty, empty)
        texts_s, texts_t = np.asarray(unique_s, dtype=object), np.asarray(unique_t, dtype=object)
        tsr = np.asarray(
            process.cpdist(
                texts_s[left], texts_t[right], scorer=fuzz.token_sort_ratio, dtype=np.float32, workers=-1
            )
        ) / np.float32(100)
        space = GramSpace(target_vocabulary or unique_t)
        cosine = row_dots(space.vectors(unique_s), space.vectors(unique_t), left, right)
        words_s, words_t, weight_s, weight_t = _word_weights(
            unique_s, unique_t, target_vocabulary or unique_t
        )
        shared = row_dots(words_s, words_t, left, right)
        with np.errstate(divide="ignore", invalid="ignore"):
            source_cover = np.where(weight_s[left] > 0, shared / weight_s[left], 0).astype(np.float32)
            target_cover = np.where(weight_t[right] > 0, shared / weight_t[right], 0).astype(np.float32)
        similarity = np.asarray(label_similarity(tsr * 100, cosine), dtype=np.float32)
        return cls(tsr.astype(np.float32), cosine, similarity, source_cover, target_cover)


def _word_weights(
    sources: list[str], targets: list[str], vocabulary: list[str]
) -> tuple[sparse.csr_matrix, sparse.csr_matrix, Floats, Floats]:
    """Word-presence matrices (source rows weighted by IDF, target rows by 1) and each
    row's total IDF; a word the target labels never use has the highest IDF."""
    documents = max(len(vocabulary), 1)
    frequency: dict[str, int] = {}
    for text in vocabulary:
        for word in set(text.split()):
            frequency[word] = frequency.get(word, 0) + 1
    columns: dict[str, int] = {}

    def matrix(texts: list[str], weighted: bool) -> tuple[sparse.csr_matrix, Floats]:
        indptr, indices, data = [0], [], []
        totals = np.zeros(len(texts), dtype=np.float32)
        for row, text in enumerate(texts):
            for word in sorted(set(text.split())):
                idf = float(np.log(documents / frequency.get(word, 1)) + 1)
                indices.append(columns.setdefault(word, len(columns)))
                data.append(idf if weighted else 1.0)
                totals[row] += idf
            indptr.append(len(indices))
        return indptr, indices, data, totals  # type: ignore[return-value]

    s_indptr, s_indices, s_data, s_totals = matrix(sources, True)  # type: ignore[misc]
    t_indptr, t_indices, t_data, t_totals = matrix(targets, False)  # type: ignore[misc]
    width = max(len(columns), 1)
    return (
        sparse.csr_matrix((s_data, s_indices, s_indptr), shape=(len(sources), width), dtype=np.float32),
        sparse.csr_matrix((t_data, t_indices, t_indptr), shape=(len(targets), width), dtype=np.float32),
        s_totals,
        t_totals,
    )
