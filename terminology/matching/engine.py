"""Candidate generation: for each source concept, a short ranked list of target concepts.

Code rules propose pairs from the codes; fuzzy search proposes pairs from every
label of both sides (the best label pair wins). Each candidate carries a score
in [0, 1], a proposed equivalence, the method and rules that found it, and a
reason a curator can read.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Literal

import numpy as np
import polars as pl
from rapidfuzz import fuzz, process

from terminology.matching.chapter_rules import ChapterRule, apply_chapter_rules
from terminology.matching.code_rules import CodeRule, code_rule_candidates
from terminology.matching.label_rewrites import LabelRewrite, rewrite_labels
from terminology.matching.memory import MEMORY_RULE, MappingMemory, memory_candidates
from terminology.matching.normalise import Normaliser, default_normaliser
from terminology.matching.property_rules import PropertyRule, apply_property_rules
from terminology.matching.search import LabelIndex
from terminology.models import Candidate, CodeSystem
from terminology.storage.store import SqlStore

EQUIVALENT_FROM = 0.95
"""A fuzzy pair scoring at least this is proposed as ``equivalent``, otherwise ``relatedto``."""
WIDER_BELOW = 0.75
"""When no target scores this much, the parent of the best one is proposed as ``wider``."""
CONTEXT_BOOST = 0.05
"""Added to a candidate under the target its source's parent is best mapped to."""
CONTEXT_RULE = "hierarchy-context"


def _labels(
    store: SqlStore,
    system: CodeSystem,
    languages: set[str] | None,
    normaliser: Normaliser,
    rewrites: list[LabelRewrite],
    side: Literal["source", "target"],
) -> pl.DataFrame:
    """Every label to compare, with ``norm`` (rewritten, then normalised) and the ids of
    the ``rewrites`` that changed it; ``label`` stays as the curator will read it."""
    frame = store.labels_frame(system)
    if languages:
        primary = pl.col("language").str.split("-").list.first()
        frame = frame.filter(primary.is_in(list(languages)) | (pl.col("use") == "display"))
    rewritten, fired = rewrite_labels(frame.get_column("label").to_list(), rewrites, side)
    normalised = [normaliser.normalise(label) for label in rewritten]
    return frame.with_columns(
        pl.Series("norm", normalised, dtype=pl.String),
        pl.Series("rewrites", fired, dtype=pl.List(pl.String)),
    ).filter(pl.col("norm") != "")


def _shared_languages(source: CodeSystem, target: CodeSystem) -> set[str] | None:
    """Labels in the languages both systems have (``fr`` and ``fr-FR`` are one language
    here); all labels when they share none. Displays always count."""
    shared = {tag.split("-")[0] for tag in source.languages} & {tag.split("-")[0] for tag in target.languages}
    return shared or None


def _fuzzy(
    source: pl.DataFrame, target: pl.DataFrame, top_k: int, progress: Callable[[int], None]
) -> pl.DataFrame:
    """Label pairs from the 3-gram index (:mod:`terminology.matching.search`), each scored
    by :func:`~terminology.matching.search.label_similarity`."""
    target_norms = target.get_column("norm").unique(maintain_order=True).to_list()
    source_norms = source.get_column("norm").unique(maintain_order=True).to_list()
    index = LabelIndex(target_norms)
    source_texts: list[str] = []
    target_texts: list[str] = []
    scores: list[float] = []
    step = 2000
    for start in range(0, len(source_norms), step):
        chunk = source_norms[start : start + step]
        for query, hits in zip(chunk, index.search(chunk, top_k=top_k * 3), strict=True):
            for hit in hits:
                source_texts.append(query)
                target_texts.append(target_norms[hit.target])
                scores.append(hit.score)
        progress(len(chunk))
    hits_frame = pl.DataFrame(
        {"source_norm": source_texts, "target_norm": target_texts, "score": scores},
        schema={"source_norm": pl.String, "target_norm": pl.String, "score": pl.Float64},
    )
    pairs_frame = hits_frame.join(
        source.select(
            source_code="code", source_label="label", source_norm="norm", source_rewrites="rewrites"
        ),
        on="source_norm",
    ).join(
        target.select(
            target_code="code", target_label="label", target_norm="norm", target_rewrites="rewrites"
        ),
        on="target_norm",
    )
    return pairs_frame.sort("score", descending=True).unique(["source_code", "target_code"], keep="first")


def _display_similarity(pairs: pl.DataFrame, source: pl.DataFrame, target: pl.DataFrame) -> pl.DataFrame:
    """Code-rule pairs with their displays and how alike those are, for score and reason."""
    displays_s = source.filter(pl.col("use") == "display").select(
        source_code="code", source_label="label", source_norm="norm"
    )
    displays_t = target.filter(pl.col("use") == "display").select(
        target_code="code", target_label="label", target_norm="norm"
    )
    joined = pairs.join(displays_s.unique("source_code"), on="source_code", how="left").join(
        displays_t.unique("target_code"), on="target_code", how="left"
    )
    similarity = process.cpdist(
        joined.get_column("source_norm").fill_null("").to_list(),
        joined.get_column("target_norm").fill_null("").to_list(),
        scorer=fuzz.token_sort_ratio,
        dtype=np.float32,
    )
    return joined.with_columns(pl.Series("label_similarity", np.asarray(similarity) / 100, dtype=pl.Float64))


def _method(rules: list[str]) -> str:
    if MEMORY_RULE in rules:
        return "memory"
    if "hierarchy-wider" in rules:
        return "hierarchy"
    return "code-rule" if rules else "fuzzy"


def _wider_parents(
    store: SqlStore, target: CodeSystem, proposed: pl.DataFrame, target_labels: pl.DataFrame, below: float
) -> pl.DataFrame:
    """For sources whose best target stays under :data:`WIDER_BELOW`, that target's parents
    with equivalence ``wider``: a specific concept may be missing from the target while
    its general concept is right. The parent keeps the best score, so it ranks beside it."""
    weak = (
        proposed.sort("score", descending=True)
        .unique("source_code", keep="first")
        .filter(pl.col("score") < below)
        .select(
            "source_code",
            "source_label",
            pl.col("target_code").alias("child"),
            pl.col("target_label").alias("child_label"),
            "score",
        )
    )
    displays = (
        target_labels.filter(pl.col("use") == "display")
        .unique("code")
        .select(pl.col("code").alias("target_code"), pl.col("label").alias("target_label"))
    )
    parents = store.parents_frame(target).rename({"code": "child", "parent": "target_code"})
    return (
        weak.join(parents, on="child")
        .join(displays, on="target_code", how="left")
        .select(
            "source_code",
            "target_code",
            "source_label",
            "target_label",
            "score",
            pl.lit("hierarchy-wider").alias("rule"),
            pl.lit("wider").alias("equivalence"),
            pl.format(
                'hierarchy: no target above {}; "{}" is the parent of the best match "{}" ({})',
                pl.lit(below),
                "target_label",
                "child_label",
                pl.col("score").round(2),
            ).alias("reason"),
        )
    )


def _parent_context(
    store: SqlStore, source: CodeSystem, target: CodeSystem, proposed: pl.DataFrame, boost: float
) -> pl.DataFrame:
    """Raise the candidates that sit under the target the source's parent is best mapped to:
    "Choléra, sans précision" under "Choléra" belongs under the parent's target too. The
    parent's best target comes from the same run, so no pass is needed in between."""
    if boost <= 0 or proposed.is_empty():
        return proposed
    best = (
        proposed.sort("score", descending=True)
        .unique("source_code", keep="first")
        .select(parent="source_code", parent_label="source_label", parent_target="target_code")
    )
    links = store.parents_frame(target)
    ancestors = pl.concat(
        [
            links,
            links.join(links, left_on="parent", right_on="code").select("code", parent="parent_right"),
        ]
    ).unique()
    numbered = proposed.with_row_index("pair")
    in_context = (
        numbered.select("pair", "source_code", "target_code")
        .join(store.parents_frame(source).rename({"code": "source_code"}), on="source_code")
        .join(best, on="parent")
        .join(
            ancestors.rename({"code": "target_code", "parent": "parent_target"}),
            on=["target_code", "parent_target"],
        )
        .unique("pair", keep="first")
        .select("pair", "parent_label", "parent_target")
    )
    told = pl.col("parent_target").is_not_null()
    raised = numbered.join(in_context, on="pair", how="left").with_columns(
        pl.when(told).then((pl.col("score") + boost).clip(upper_bound=1.0)).otherwise("score"),
        pl.when(told)
        .then(
            pl.format(
                '{}; context: parent "{}" is best mapped to {}, above this target +{}',
                "reason",
                "parent_label",
                "parent_target",
                pl.lit(boost),
            )
        )
        .otherwise("reason"),
    )
    # The context rule is recorded on a copy of the row, so the rule that found it stays too.
    return pl.concat([raised, raised.filter(told).with_columns(pl.lit(CONTEXT_RULE).alias("rule"))]).drop(
        "pair", "parent_label", "parent_target"
    )


def match(
    store: SqlStore,
    source: CodeSystem,
    target: CodeSystem,
    *,
    code_rules: list[CodeRule] | None = None,
    property_rules: list[PropertyRule] | None = None,
    memory: MappingMemory | None = None,
    label_rewrites: list[LabelRewrite] | None = None,
    chapter_rules: list[ChapterRule] | None = None,
    normaliser: Normaliser | None = None,
    top_k: int = 5,
    min_score: float = 0.5,
    wider_below: float = WIDER_BELOW,
    context_boost: float = CONTEXT_BOOST,
    progress: Callable[[int], None] = lambda _: None,
) -> list[Candidate]:
    """Ranked candidates for every source concept that has any above ``min_score``."""
    normaliser = normaliser or default_normaliser()
    languages = _shared_languages(source, target)
    rewrites = label_rewrites or []
    source_labels = _labels(store, source, languages, normaliser, rewrites, "source")
    target_labels = _labels(store, target, languages, normaliser, rewrites, "target").filter(pl.col("active"))
    fired = pl.concat_list("source_rewrites", "target_rewrites").list.unique(maintain_order=True)
    fuzzy = (
        _fuzzy(source_labels, target_labels, top_k, progress)
        .select(
            "source_code",
            "target_code",
            "source_label",
            "target_label",
            "score",
            fired.alias("rule"),
            pl.when(pl.col("score") >= EQUIVALENT_FROM)
            .then(pl.lit("equivalent"))
            .otherwise(pl.lit("relatedto"))
            .alias("equivalence"),
            pl.format('labels "{}" ~ "{}" {}', "source_label", "target_label", pl.col("score").round(2))
            .add(
                pl.when(fired.list.len() > 0)
                .then(pl.lit("; rewritten by ") + fired.list.join(", "))
                .otherwise(pl.lit(""))
            )
            .alias("reason"),
        )
        .explode("rule", empty_as_null=True)
    )
    by_code = code_rule_candidates(
        code_rules or [], source_labels.unique("code"), target_labels.unique("code")
    )
    by_code = _display_similarity(by_code, source_labels, target_labels).select(
        "source_code",
        "target_code",
        "source_label",
        "target_label",
        (0.9 + 0.1 * pl.col("label_similarity")).alias("score"),
        "rule",
        "equivalence",
        pl.format(
            'code rule {}: {} = {}; labels "{}" ~ "{}" {}',
            "rule",
            "source_code",
            "target_code",
            "source_label",
            "target_label",
            pl.col("label_similarity").round(2),
        ).alias("reason"),
    )
    remembered = memory_candidates(
        memory or MappingMemory(),
        normaliser,
        target.url,
        source_labels,
        target_labels.filter(pl.col("use") == "display").select(target_code="code", target_label="label"),
    )
    proposed = pl.concat([by_code, remembered, fuzzy])
    proposed = pl.concat([proposed, _wider_parents(store, target, proposed, target_labels, wider_below)])
    proposed = apply_property_rules(property_rules or [], store, source, target, proposed)
    proposed = apply_chapter_rules(chapter_rules or [], store, source, target, proposed)
    proposed = _parent_context(store, source, target, proposed, context_boost)
    merged = (
        proposed.sort("score", descending=True)
        .group_by(["source_code", "target_code"], maintain_order=True)
        .agg(
            pl.first("source_label", "target_label", "score", "equivalence"),
            pl.col("rule").drop_nulls().unique(maintain_order=True).alias("rules"),
            pl.col("reason").unique(maintain_order=True).str.join("; ").alias("reason"),
        )
        .filter(pl.col("score") >= min_score)
        .with_columns((pl.col("equivalence") == "wider").alias("general"))
        .sort(["source_code", "score", "general", "target_code"], descending=[False, True, False, False])
        .with_columns(pl.int_range(1, pl.len() + 1).over("source_code").alias("rank"))
        .filter(pl.col("rank") <= top_k)
    )
    return [
        Candidate(
            source_code=row["source_code"],
            source_label=row["source_label"],
            target_code=row["target_code"],
            target_label=row["target_label"],
            rank=row["rank"],
            score=round(row["score"], 4),
            equivalence=row["equivalence"],
            method=_method(row["rules"]),
            rules=tuple(row["rules"]),
            reason=row["reason"],
        )
        for row in merged.iter_rows(named=True)
    ]
