"""The candidate pool and what the ranker knows of each candidate.

Four generators propose targets for a source concept, each recorded as a
:class:`~terminology.models.MatchMethod`:

* **lexical** — the best targets in each language both systems share, over all
  labels (:func:`terminology.matching.lexical.lexical_search`), the best targets by
  3-gram TF-IDF cosine alone (what a plain TF-IDF matcher would propose: the pool never
  holds less than it), and every target whose label folds to the source's own;
* **ancestor** — the ancestors of the best lexical neighbours, up to the root: when
  the target has nothing as specific as the source, the right answer is usually
  the category above the look-alike leaf;
* **parent-context** — the best targets of the source's parent: a child labelled
  "sans précision" belongs where its parent goes;
* **code-rule** / **memory** — pairs the rule files or validated mappings give
  (:mod:`terminology.matching.engine` passes them in).

:func:`pool_features` then describes every pair the same way, whoever proposed
it (:data:`FEATURES`), so one model ranks them all.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import polars as pl

from terminology.matching.decided import from_decided_parent, from_decided_siblings
from terminology.matching.hierarchy import Hierarchy
from terminology.matching.lexical import BASELINE_K, PairSimilarities, lexical_search, preferred_labels
from terminology.matching.normalise import canonical
from terminology.models import MatchMethod
from terminology.text import fold

FEATURES: tuple[str, ...] = (
    "sim_first",
    "tsr_first",
    "cos_first",
    "source_cover_first",
    "target_cover_first",
    "sim_other",
    "source_cover_other",
    "sim_max",
    "cos_rank",
    "tsr_rank",
    "source_words",
    "target_words",
    "lex_best",
    "lex_rank",
    "lex_gap",
    "lex_languages",
    "source_top_lex",
    "cover_levels",
    "cover_support",
    "cover_lex",
    "cover_rank",
    "parent_best_lex",
    "parent_best_up",
    "parent_best_down",
    "context_levels",
    "context_rank",
    "sibling_support",
    "source_depth",
    "source_children",
    "target_depth",
    "target_children",
    "source_other",
    "source_unspecified",
    "target_other",
    "target_unspecified",
    "code_rule",
    "memory",
    "tfidf_cos",
    "tfidf_rank",
    "tfidf_gap",
    "decided_parent",
    "decided_sibling",
    "decided_support",
)
"""What the ranker reads of each (source, candidate) pair, in the model's column order."""

OTHER = re.compile(
    r"\b(autres?|other|nca|nec|non classee?s? ailleurs|not elsewhere classified|specifiee?s?|specified)\b"
)
UNSPECIFIED = re.compile(
    r"\b(sans precision|unspecified|sai|nos|non precisee?s?|not specified|non specifiee?s?)\b"
)
SIBLINGS_AT_MOST = 60
"""Sibling agreement is read only under parents with at most this many children."""
SAME_LABEL_AT_MOST = 10
"""A source whose label folds to the labels of more targets than this (a bare residual
"Autres" in a list that repeats it) gets no same-label guarantee: none of them is *the* one."""


@dataclass(frozen=True)
class PoolSettings:
    """How wide the pool is cast."""

    per_language: int = 20
    """Lexical neighbours kept per source and language."""
    neighbours: int = 5
    """The best lexical neighbours whose ancestors join the pool."""
    parent_targets: int = 3
    """Best targets of each of the source's ancestors that join the pool."""
    context_levels: int = 3
    """How far up the source hierarchy those ancestors are looked for."""
    baseline_top: int = 5
    """A source's best targets by 3-gram TF-IDF cosine alone that join the pool."""


@dataclass(frozen=True)
class MatchingInput:
    """What matching reads: labels (with ``norm``) and hierarchies of both sides."""

    source_labels: pl.DataFrame
    target_labels: pl.DataFrame
    source: Hierarchy
    target: Hierarchy
    languages: tuple[str, ...] | None
    """Languages both systems share, the source's first language first; None: none shared."""


def _self_or_ancestors(hierarchy: Hierarchy) -> pl.DataFrame:
    """(``code``, ``ancestor``, ``levels``) with each concept its own ancestor at 0 levels."""
    own = hierarchy.shape.select(
        "code", pl.col("code").alias("ancestor"), pl.lit(0, dtype=pl.Int32).alias("levels")
    )
    return pl.concat([own, hierarchy.ancestors.cast({"levels": pl.Int32})])


def _folded_labels(labels: pl.DataFrame) -> pl.DataFrame:
    """(``code``, ``folded``) for each label as written (lexicon translations left out)."""
    own = labels.filter(pl.col("use") != "translation").select("code", "label").unique()
    folded = [" ".join(fold(text).split()) for text in own.get_column("label").to_list()]
    return own.select("code").with_columns(pl.Series("folded", folded, dtype=pl.String))


def same_label_pairs(inputs: MatchingInput) -> pl.DataFrame:
    """(``source_code``, ``target_code``) whose labels fold to the same text (case, accents
    and spacing aside), in whatever language: such a target is always proposed, whatever
    the lexical search kept or the rules would drop, since a curator would find it first.

    >>> from terminology.matching.hierarchy import Hierarchy
    >>> labels = lambda rows: pl.DataFrame(rows, schema=["code", "label", "use"], orient="row")
    >>> source = labels([("1D47", "Fièvre jaune", "display"), ("1D47", "yellow fever", "translation")])
    >>> target = labels([("A95", "FIEVRE  JAUNE", "display"), ("A95.9", "Yellow fever", "display")])
    >>> none = Hierarchy.of(pl.Series([], dtype=pl.String), pl.DataFrame(schema={"code": pl.String,
    ...                                                                      "parent": pl.String}))
    >>> same_label_pairs(MatchingInput(source, target, none, none, None)).rows()
    [('1D47', 'A95')]
    """
    source = _folded_labels(inputs.source_labels).rename({"code": "source_code"})
    target = _folded_labels(inputs.target_labels).rename({"code": "target_code"})
    pairs = source.join(target, on="folded").select("source_code", "target_code").unique()
    return pairs.filter(pl.len().over("source_code") <= SAME_LABEL_AT_MOST).sort("source_code", "target_code")


def lexical_evidence(hits: pl.DataFrame) -> pl.DataFrame:
    """One row per lexical (source, target) pair: best score over languages, in how many
    languages it was found, its rank among the source's neighbours and the label pair."""
    return (
        hits.sort("score", "target_code", descending=[True, False])
        .group_by("source_code", "target_code", maintain_order=True)
        .agg(
            pl.col("score").first().alias("lex_best"),
            pl.col("lang").n_unique().alias("lex_languages"),
            # labels repeat across a source's pairs and a target's sources: kept as categories
            # (a number each), not strings, through every join of the pool
            pl.col("source_label").first().cast(pl.Categorical).alias("lex_source_label"),
            pl.col("target_label").first().cast(pl.Categorical).alias("lex_target_label"),
            pl.col("lang").first().alias("lex_lang"),
            pl.col("rewrites").first().alias("lex_rewrites"),
        )
        .sort("lex_best", "target_code", descending=[True, False])
        .with_columns(
            pl.int_range(1, pl.len() + 1).over("source_code").alias("lex_rank"),
            pl.col("lex_best").max().over("source_code").alias("source_top_lex"),
        )
    )


def _cover(lexical: pl.DataFrame, target: Hierarchy, neighbours: int) -> pl.DataFrame:
    """For each source and each target at or above one of its best ``neighbours``: how many
    of them it covers, how far up the nearest is, and the best score among them."""
    top = lexical.filter(pl.col("lex_rank") <= neighbours).select(
        "source_code", pl.col("target_code").alias("near"), "lex_best", "lex_target_label"
    )
    return (
        top.join(_self_or_ancestors(target), left_on="near", right_on="code")
        .sort("lex_best", descending=True)
        .group_by("source_code", pl.col("ancestor").alias("target_code"), maintain_order=True)
        .agg(
            pl.col("levels").min().alias("cover_levels"),
            pl.len().alias("cover_support"),
            pl.col("lex_best").first().alias("cover_lex"),
            pl.col("near").first().alias("cover_near"),
            pl.col("lex_target_label").first().alias("cover_near_label"),
        )
    )


def _parent_context(
    lexical: pl.DataFrame, source: Hierarchy, parent_targets: int, context_levels: int
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The best targets of the source's ancestors (up to ``context_levels`` up) proposed
    for it (``source_code``, ``target_code``, ``context_levels``: the nearest ancestor that
    proposed it, ``context_rank``: its rank there), and for each source its first
    parent's best target (``parent_best``, ``parent_best_lex``, ``parent_label``)."""
    first_parent = source.parents.sort("code", "parent").unique("code", keep="first")
    proposed = (
        source.ancestors.filter(pl.col("levels") <= context_levels)
        .join(
            lexical.filter(pl.col("lex_rank") <= parent_targets).select(
                pl.col("source_code").alias("ancestor"),
                "target_code",
                pl.col("lex_rank").alias("context_rank"),
            ),
            on="ancestor",
        )
        .sort("levels", "context_rank")
        .group_by(pl.col("code").alias("source_code"), "target_code", maintain_order=True)
        .agg(pl.col("levels").first().alias("context_levels"), pl.col("context_rank").first())
    )
    best = first_parent.join(
        lexical.filter(pl.col("lex_rank") == 1).select(
            pl.col("source_code").alias("parent"),
            pl.col("target_code").alias("parent_best"),
            pl.col("lex_best").alias("parent_best_lex"),
            pl.col("lex_source_label").alias("parent_label"),
        ),
        on="parent",
    ).select(pl.col("code").alias("source_code"), "parent_best", "parent_best_lex", "parent_label")
    return proposed, best


def _sibling_support(lexical: pl.DataFrame, source: Hierarchy, target: Hierarchy) -> pl.DataFrame:
    """Share of a source's siblings whose best target is at or under each target."""
    small = source.shape.filter(pl.col("children").is_between(2, SIBLINGS_AT_MOST)).select(
        pl.col("code").alias("parent"), pl.col("children").alias("family")
    )
    links = source.parents.join(small, on="parent")
    siblings = (
        links.join(links.select("parent", pl.col("code").alias("sibling")), on="parent")
        .filter(pl.col("code") != pl.col("sibling"))
        .select(pl.col("code").alias("source_code"), "sibling", "family")
    )
    best = lexical.filter(pl.col("lex_rank") == 1).select(
        pl.col("source_code").alias("sibling"), pl.col("target_code").alias("sibling_best")
    )
    return (
        siblings.join(best, on="sibling")
        .join(_self_or_ancestors(target), left_on="sibling_best", right_on="code")
        .group_by("source_code", pl.col("ancestor").alias("target_code"))
        .agg((pl.col("sibling").n_unique() / (pl.col("family").first() - 1)).alias("sibling_support"))
    )


@dataclass(frozen=True)
class Evidence:
    """What the candidate generators draw on: the inputs, the lexical neighbours, what
    covers them from above, the source ancestors' targets, and the pairs code rules and
    the mapping memory found."""

    inputs: MatchingInput
    lexical: pl.DataFrame
    cover: pl.DataFrame
    parent_proposed: pl.DataFrame
    parent_best: pl.DataFrame
    known: pl.DataFrame
    """``source_code``, ``target_code``, ``method`` of code-rule and memory pairs."""
    same_label: pl.DataFrame
    """``source_code``, ``target_code`` whose labels fold to the same text."""
    tfidf: pl.DataFrame
    """``source_code``, ``target_code``, ``tfidf_cos``, ``tfidf_rank``: the best targets by
    3-gram TF-IDF cosine alone."""
    decided_parent: pl.DataFrame
    """Targets near the one curators chose for the source's parent (``decided_parent``)."""
    decided_sibling: pl.DataFrame
    """Targets near those chosen for its siblings (``decided_sibling``, ``decided_support``)."""
    baseline_top: int = 5
    """How many of :attr:`tfidf` join the pool (:attr:`PoolSettings.baseline_top`)."""


Generator = Callable[[Evidence], pl.DataFrame]
"""A candidate generator: the (``source_code``, ``target_code``) pairs it proposes."""

GENERATORS: dict[str, Generator] = {
    MatchMethod.LEXICAL.value: lambda evidence: pl.concat(
        [
            evidence.lexical.select("source_code", "target_code"),
            evidence.tfidf.filter(pl.col("tfidf_rank") <= evidence.baseline_top).select(
                "source_code", "target_code"
            ),
            evidence.same_label,
        ]
    ),
    MatchMethod.ANCESTOR.value: lambda evidence: evidence.cover.filter(pl.col("cover_levels") > 0),
    MatchMethod.PARENT_CONTEXT.value: lambda evidence: evidence.parent_proposed,
    MatchMethod.DECIDED_NEIGHBOUR.value: lambda evidence: pl.concat(
        [
            evidence.decided_parent.select("source_code", "target_code"),
            evidence.decided_sibling.select("source_code", "target_code"),
        ]
    ),
}
"""The generators of the pool by the method they are recorded under, in the order their
proposals are listed (a pair's ``methods`` keep it). Code rules and the mapping memory
propose through :attr:`Evidence.known`, with their own methods."""


def build_pool(
    inputs: MatchingInput,
    proposed: pl.DataFrame,
    *,
    settings: PoolSettings | None = None,
    progress: object = None,
    decided: Mapping[str, Sequence[str]] | None = None,
) -> pl.DataFrame:
    """Every candidate pair with the methods that proposed it and its features.

    ``proposed`` holds pairs found outside this module (``source_code``, ``target_code``,
    ``method``: code rules and memory). The result has ``source_code``, ``target_code``,
    ``methods`` (list of :class:`~terminology.models.MatchMethod` values), every name of
    :data:`FEATURES`, and what reasons are written from.
    """
    settings = settings or PoolSettings()
    hits, tfidf = lexical_search(
        inputs.source_labels,
        inputs.target_labels,
        inputs.languages,
        per_language=settings.per_language,
        progress=progress if callable(progress) else lambda _: None,
    )
    lexical = lexical_evidence(hits)
    del hits  # a million label pairs: what the pool needs of them is in ``lexical``
    parent_proposed, parent_best = _parent_context(
        lexical, inputs.source, settings.parent_targets, settings.context_levels
    )
    evidence = Evidence(
        inputs=inputs,
        lexical=lexical,
        cover=_cover(lexical, inputs.target, settings.neighbours),
        parent_proposed=parent_proposed,
        parent_best=parent_best,
        known=proposed.select("source_code", "target_code", "method"),
        same_label=same_label_pairs(inputs),
        tfidf=tfidf,
        baseline_top=settings.baseline_top,
        decided_parent=from_decided_parent(inputs.source, inputs.target, decided or {}),
        decided_sibling=from_decided_siblings(inputs.source, inputs.target, decided or {}),
    )
    active_targets = inputs.target_labels.select(pl.col("code").alias("target_code")).unique()
    pairs = (
        pl.concat(
            [
                *(
                    generate(evidence).select("source_code", "target_code", pl.lit(method).alias("method"))
                    for method, generate in GENERATORS.items()
                ),
                evidence.known,
            ]
        )
        .join(active_targets, on="target_code", how="semi")
        .group_by("source_code", "target_code", maintain_order=True)
        .agg(pl.col("method").unique(maintain_order=True).alias("methods"))
        .join(evidence.decided_parent, on=["source_code", "target_code"], how="left")
        .join(evidence.decided_sibling, on=["source_code", "target_code"], how="left")
    )
    same = evidence.same_label.with_columns(pl.lit(True).alias("same_label"))
    return (
        pool_features(pairs, inputs, lexical, evidence.cover, parent_proposed, parent_best, evidence.tfidf)
        .join(same, on=["source_code", "target_code"], how="left")
        .with_columns(pl.col("same_label").fill_null(False))
    )


def _flags(labels: pl.DataFrame, side: str) -> pl.DataFrame:
    """Residual-category words in each concept's labels (any language)."""
    folded = [canonical(text) for text in labels.get_column("label").to_list()]
    return (
        labels.select("code")
        .with_columns(
            pl.Series("other", [bool(OTHER.search(text)) for text in folded]),
            pl.Series("unspecified", [bool(UNSPECIFIED.search(text)) for text in folded]),
        )
        .group_by("code")
        .agg(
            pl.col("other").any().cast(pl.Int8).alias(f"{side}_other"),
            pl.col("unspecified").any().cast(pl.Int8).alias(f"{side}_unspecified"),
        )
    )


def _similarities(pairs: pl.DataFrame, inputs: MatchingInput) -> pl.DataFrame:
    """``*_first`` similarities in the first shared language and ``*_other`` the best of the
    others, on each concept's preferred label in that language."""
    source_pref = preferred_labels(inputs.source_labels, inputs.languages)
    target_pref = preferred_labels(inputs.target_labels, inputs.languages)
    languages = list(inputs.languages) if inputs.languages else sorted(set(source_pref.get_column("lang")))
    numbered = pairs.select("source_code", "target_code").with_row_index("pair")
    columns: dict[str, np.ndarray] = {}
    for position, lang in enumerate(languages):
        s_pref = source_pref.filter(pl.col("lang") == lang)
        t_pref = target_pref.filter(pl.col("lang") == lang)
        unique_s = s_pref.get_column("norm").unique().sort()
        unique_t = t_pref.get_column("norm").unique().sort()
        s_index = s_pref.join(pl.DataFrame({"norm": unique_s}).with_row_index("s"), on="norm")
        t_index = t_pref.join(pl.DataFrame({"norm": unique_t}).with_row_index("t"), on="norm")
        both = (
            numbered.lazy()
            .join(s_index.lazy().select(source_code="code", s="s"), on="source_code")
            .join(t_index.lazy().select(target_code="code", t="t"), on="target_code")
            .select("pair", "s", "t")
            .collect()
        )  # positions only: the pairs' labels (and codes) are never copied out
        left = both.get_column("s").to_numpy().astype(np.int64)
        right = both.get_column("t").to_numpy().astype(np.int64)
        found = PairSimilarities.of_indexed(
            unique_s.to_list(), unique_t.to_list(), left, right, t_pref.get_column("norm").to_list()
        )
        rows = both.get_column("pair").to_numpy()
        for name in ("similarity", "tsr", "cosine", "source_cover", "target_cover"):
            column = np.full(numbered.height, np.nan, dtype=np.float32)
            column[rows] = getattr(found, name)
            key = f"{name}_{'first' if position == 0 else lang}"
            columns[key] = column
        if position == 0:
            for side, unique, at in (("source", unique_s, left), ("target", unique_t, right)):
                spaces = (unique.str.count_matches(" ").to_numpy() + 1).astype(np.float32)
                words = np.full(numbered.height, np.nan, dtype=np.float32)
                words[rows] = spaces[at]
                columns[f"{side}_words"] = words
    first = {
        "sim_first": "similarity_first",
        "tsr_first": "tsr_first",
        "cos_first": "cosine_first",
        "source_cover_first": "source_cover_first",
        "target_cover_first": "target_cover_first",
    }
    others = [lang for lang in languages[1:]]
    result = pairs.with_columns(
        [
            pl.Series(name, columns[key]) if key in columns else pl.lit(None, dtype=pl.Float32).alias(name)
            for name, key in first.items()
        ]
    )
    if others and columns:
        result = result.with_columns(
            pl.Series(
                "sim_other",
                np.fmax.reduce(np.vstack([columns[f"similarity_{lang}"] for lang in others]), axis=0),
            ),
            pl.Series(
                "source_cover_other",
                np.fmax.reduce(np.vstack([columns[f"source_cover_{lang}"] for lang in others]), axis=0),
            ),
        )
    else:
        result = result.with_columns(
            pl.lit(None, dtype=pl.Float32).alias("sim_other"),
            pl.lit(None, dtype=pl.Float32).alias("source_cover_other"),
        )
    counts = [pl.Series(name, columns[name]) for name in ("source_words", "target_words") if name in columns]
    best_of_both = pl.max_horizontal(pl.col("sim_first").fill_nan(None), pl.col("sim_other").fill_nan(None))
    by_source = pl.col("source_code")
    return result.with_columns(*counts, best_of_both.alias("sim_max")).with_columns(
        pl.col("cos_first").fill_nan(None).rank("min", descending=True).over(by_source).alias("cos_rank"),
        pl.col("tsr_first").fill_nan(None).rank("min", descending=True).over(by_source).alias("tsr_rank"),
    )


def _joined_beside(pairs: pl.DataFrame, evidence: list[tuple[pl.DataFrame, list[str]]]) -> pl.DataFrame:
    """``pairs`` with the columns of each evidence frame (one row per key, left join), in
    the pairs' order. Each frame is joined to the keys alone and its columns set beside the
    pairs: a chain of joins on the whole pairs frame copied every column at each step, which
    on a CIM-11 match (1.6 million pairs) was several hundred MB held twice."""
    keys = pairs.select("source_code", "target_code")
    columns: list[pl.Series] = []
    for frame, on in evidence:
        extra = [name for name in frame.columns if name not in on and name not in pairs.columns]
        unique = frame.select(*on, *extra).unique(on, keep="first", maintain_order=True)
        joined = keys.select(on).join(unique, on=on, how="left", maintain_order="left")
        columns.extend(joined.get_column(name) for name in extra)
    return pairs.hstack(columns)


def pool_features(
    pairs: pl.DataFrame,
    inputs: MatchingInput,
    lexical: pl.DataFrame,
    cover: pl.DataFrame,
    parent_proposed: pl.DataFrame,
    parent_best: pl.DataFrame,
    tfidf: pl.DataFrame,
) -> pl.DataFrame:
    """Join every piece of evidence to the pairs, one column per name of :data:`FEATURES`."""
    up = _self_or_ancestors(inputs.target)
    with_parent = pairs.join(parent_best, on="source_code", how="left")
    relation_up = (  # the candidate sits at or above the parent's best target
        with_parent.select("source_code", "target_code", "parent_best")
        .join(up, left_on=["parent_best", "target_code"], right_on=["code", "ancestor"])
        .select("source_code", "target_code", pl.col("levels").alias("parent_best_up"))
    )
    relation_down = (  # the candidate sits at or under it
        with_parent.select("source_code", "target_code", "parent_best")
        .join(up, left_on=["target_code", "parent_best"], right_on=["code", "ancestor"])
        .select("source_code", "target_code", pl.col("levels").alias("parent_best_down"))
    )
    keys = ["source_code", "target_code"]
    methods = pl.col("methods")
    frame = _joined_beside(
        with_parent,
        [
            (lexical, keys),
            (cover, keys),
            (relation_up, keys),
            (relation_down, keys),
            (parent_proposed, keys),
            (_sibling_support(lexical, inputs.source, inputs.target), keys),
            (
                inputs.source.shape.select(
                    source_code="code", source_depth="depth", source_children="children"
                ),
                ["source_code"],
            ),
            (
                inputs.target.shape.select(
                    target_code="code", target_depth="depth", target_children="children"
                ),
                ["target_code"],
            ),
            (_flags(inputs.source_labels, "source").rename({"code": "source_code"}), ["source_code"]),
            (_flags(inputs.target_labels, "target").rename({"code": "target_code"}), ["target_code"]),
        ],
    )
    top = lexical.group_by("source_code").agg(pl.col("lex_best").max().alias("top"))
    frame = (
        _joined_beside(frame.drop("source_top_lex"), [(top, ["source_code"])])
        .with_columns(
            pl.col("lex_best").fill_null(0.0),
            pl.col("lex_languages").fill_null(0),
            pl.col("top").fill_null(0.0).alias("source_top_lex"),
            (pl.col("top").fill_null(0.0) - pl.col("lex_best").fill_null(0.0)).alias("lex_gap"),
            pl.col("cover_support").fill_null(0),
            pl.col("sibling_support").fill_null(0.0),
            methods.list.contains(MatchMethod.CODE_RULE.value).cast(pl.Int8).alias("code_rule"),
            methods.list.contains(MatchMethod.MEMORY.value).cast(pl.Int8).alias("memory"),
        )
        .drop("top")
    )
    cover_rank = (
        frame.select("source_code", "target_code", "cover_lex", "cover_levels")
        .filter(pl.col("cover_lex").is_not_null())
        .sort(
            ["source_code", "cover_lex", "cover_levels", "target_code"],
            descending=[False, True, False, False],
        )
        .select(keys)
        .with_columns(pl.int_range(1, pl.len() + 1).over("source_code").alias("cover_rank"))
    )
    best_cosine = tfidf.group_by("source_code").agg(pl.col("tfidf_cos").max().alias("tfidf_top"))
    frame = (
        _joined_beside(frame, [(cover_rank, keys), (tfidf, keys), (best_cosine, ["source_code"])])
        .with_columns(
            pl.col("tfidf_rank").fill_null(BASELINE_K + 1),  # beyond the baseline's top: far
            (pl.col("tfidf_top") - pl.col("tfidf_cos")).alias("tfidf_gap"),
        )
        .drop("tfidf_top")
    )
    return _similarities(frame, inputs).with_columns([pl.col(name).cast(pl.Float32) for name in FEATURES])


def feature_matrix(pool: pl.DataFrame) -> np.ndarray:
    """The pool's :data:`FEATURES` as a float32 matrix (missing values as NaN)."""
    return pool.select(
        [pl.col(name).cast(pl.Float32).fill_null(float("nan")) for name in FEATURES]
    ).to_numpy()
