"""Matching: for each source concept, a short ranked list of target concepts.

The generators of :mod:`terminology.matching.pool` (lexical neighbours in every
shared language, their ancestors, the source parent's targets) and the project's
code rules and mapping memory fill a pool of candidates; the ranker
(:mod:`terminology.matching.ranker`) scores each with the probability that
curators validate it and predicts its equivalence; property and chapter rules
then constrain what is shown. Each candidate says which generator found it
(:class:`~terminology.models.MatchMethod`), which rules fired, and why, in words
a curator can read.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Literal

import numpy as np
import polars as pl
from rapidfuzz import fuzz, process

from terminology.matching.chapter_rules import ChapterRule, apply_chapter_rules
from terminology.matching.code_rules import CodeRule, code_rule_candidates
from terminology.matching.frames import MatchingFrames, VersionReader, read_frames
from terminology.matching.hierarchy import Hierarchy
from terminology.matching.label_rewrites import LabelRewrite, rewrite_labels
from terminology.matching.lexical import ANY_LANGUAGE
from terminology.matching.lexicon import shipped_lexicon
from terminology.matching.memory import MappingMemory, memory_candidates
from terminology.matching.normalise import Normaliser, default_normaliser
from terminology.matching.pool import MatchingInput, PoolSettings, build_pool
from terminology.matching.property_rules import PropertyRule, apply_property_rules
from terminology.matching.ranker import (
    RANKING_DESCENDING,
    RANKING_ORDER,
    RankingModel,
    closeness,
    default_model,
    ranks,
)
from terminology.models import Candidate, CodeSystem, MatchMethod


def _labels(
    frame: pl.DataFrame,
    normaliser: Normaliser,
    rewrites: list[LabelRewrite],
    side: Literal["source", "target"],
) -> pl.DataFrame:
    """Every label to compare, with ``norm`` (rewritten, then normalised) and the ids of
    the ``rewrites`` that changed it; ``label`` stays as the curator will read it."""
    rewritten, fired = rewrite_labels(frame.get_column("label").to_list(), rewrites, side)
    normalised = [normaliser.normalise(label) for label in rewritten]
    return frame.with_columns(
        pl.Series("norm", normalised, dtype=pl.String),
        pl.Series("rewrites", fired, dtype=pl.List(pl.String)),
    ).filter(pl.col("norm") != "")


def _shared_languages(source: CodeSystem, target: CodeSystem) -> tuple[str, ...] | None:
    """The languages both systems have (``fr`` and ``fr-FR`` are one language here), in the
    source's order; None when they share none (every label is then compared with every one)."""
    target_languages = {tag.split("-")[0] for tag in target.languages}
    shared: list[str] = []
    for tag in source.languages:
        primary = tag.split("-")[0]
        if primary in target_languages and primary not in shared:
            shared.append(primary)
    return tuple(shared) or None


def matching_input(
    frames: MatchingFrames,
    *,
    normaliser: Normaliser | None = None,
    label_rewrites: list[LabelRewrite] | None = None,
    hierarchies: bool = True,
) -> MatchingInput:
    """What matching compares of two versions: normalised labels and hierarchies
    (``hierarchies=False`` reads both as flat lists, as training does to teach the model
    code lists that have none)."""
    normaliser = normaliser or default_normaliser()
    rewrites = label_rewrites or []
    source, target = frames.source.system, frames.target.system
    source_labels = _labels(frames.source.labels, normaliser, rewrites, "source")
    target_labels = _labels(frames.target.labels, normaliser, rewrites, "target").filter(pl.col("active"))
    no_links = pl.DataFrame(schema={"code": pl.String, "parent": pl.String})
    source_labels, translated = _translations(source_labels, source, target)
    shared = _shared_languages(source, target) or ()
    languages = tuple(dict.fromkeys([*shared, *translated])) or None
    return MatchingInput(
        source_labels=source_labels,
        target_labels=target_labels,
        source=Hierarchy.of(
            source_labels.get_column("code"), frames.source.parents if hierarchies else no_links
        ),
        target=Hierarchy.of(
            target_labels.get_column("code"), frames.target.parents if hierarchies else no_links
        ),
        languages=languages,
    )


def _translations(
    labels: pl.DataFrame, source: CodeSystem, target: CodeSystem
) -> tuple[pl.DataFrame, tuple[str, ...]]:
    """The source labels plus, for each target language the source lacks, their word-by-word
    translation through a shipped lexicon (:mod:`terminology.matching.lexicon`), as labels
    of that language; the lexicon's id joins the label's rewrites, so reasons say so."""
    own = [tag.split("-")[0] for tag in source.languages]
    primary = pl.col("language").fill_null("").str.split("-").list.first()
    frames, added = [labels], []
    for wanted in dict.fromkeys(tag.split("-")[0] for tag in target.languages):
        if wanted in own:
            continue
        for language in own:
            lexicon = shipped_lexicon(language, wanted)
            if lexicon is None:
                continue
            rows = labels.filter(primary == language)
            frames.append(
                rows.with_columns(
                    pl.lit(wanted).alias("language"),
                    pl.lit("translation").alias("use"),
                    pl.Series(
                        "norm", [lexicon.translate(norm) for norm in rows.get_column("norm")], dtype=pl.String
                    ),
                    pl.col("rewrites").list.concat(pl.lit([f"lexicon-{language}-{wanted}"])),
                )
            )
            added.append(wanted)
            break
    return pl.concat(frames), tuple(added)


def _known_pairs(
    inputs: MatchingInput,
    normaliser: Normaliser,
    target: CodeSystem,
    code_rules: list[CodeRule],
    memory: MappingMemory,
) -> pl.DataFrame:
    """Pairs the rule files and the mapping memory give, with their rule and reason:
    curators configured them, so they join the pool whatever their labels say."""
    source_labels, target_labels = inputs.source_labels, inputs.target_labels
    by_code = code_rule_candidates(code_rules, source_labels.unique("code"), target_labels.unique("code"))
    by_code = _display_similarity(by_code, source_labels, target_labels).select(
        "source_code",
        "target_code",
        pl.lit(MatchMethod.CODE_RULE.value).alias("method"),
        (0.9 + 0.1 * pl.col("label_similarity")).alias("prior"),
        "rule",
        pl.col("equivalence").alias("rule_equivalence"),
        pl.format(
            'code rule {}: {} = {}; labels "{}" ~ "{}" {}',
            "rule",
            "source_code",
            "target_code",
            "source_label",
            "target_label",
            pl.col("label_similarity").round(2),
        ).alias("rule_reason"),
    )
    remembered = memory_candidates(
        memory,
        normaliser,
        target.url,
        source_labels,
        target_labels.filter(pl.col("use") == "display").select(target_code="code", target_label="label"),
    ).select(
        "source_code",
        "target_code",
        pl.lit(MatchMethod.MEMORY.value).alias("method"),
        pl.col("score").alias("prior"),
        "rule",
        pl.col("equivalence").alias("rule_equivalence"),
        pl.col("reason").alias("rule_reason"),
    )
    return pl.concat([by_code, remembered])


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


METHOD_PRIORITY = (
    MatchMethod.CODE_RULE,
    MatchMethod.MEMORY,
    MatchMethod.LEXICAL,
    MatchMethod.ANCESTOR,
    MatchMethod.PARENT_CONTEXT,
    MatchMethod.DECIDED_NEIGHBOUR,
)
"""Which method a candidate is recorded under when several proposed it."""


def candidate_pool(
    frames: MatchingFrames,
    *,
    code_rules: list[CodeRule] | None = None,
    memory: MappingMemory | None = None,
    label_rewrites: list[LabelRewrite] | None = None,
    normaliser: Normaliser | None = None,
    pool_settings: PoolSettings | None = None,
    hierarchies: bool = True,
    decided: Mapping[str, Sequence[str]] | None = None,
    progress: Callable[[int], None] = lambda _: None,
) -> pl.DataFrame:
    """Every candidate of every source concept with its features, before ranking (what the
    ranker is trained and applied on), plus the rule evidence (``prior``, ``rule``,
    ``rule_equivalence``, ``rule_reason``) of pairs the rules or the memory gave.

    ``decided`` (source code → the target codes curators chose) widens the pool around
    decided concepts (:mod:`terminology.matching.decided`)."""
    normaliser = normaliser or default_normaliser()
    inputs = matching_input(
        frames, normaliser=normaliser, label_rewrites=label_rewrites, hierarchies=hierarchies
    )
    known = _known_pairs(
        inputs, normaliser, frames.target.system, code_rules or [], memory or MappingMemory()
    )
    pool = build_pool(
        inputs,
        known.select("source_code", "target_code", "method"),
        settings=pool_settings,
        progress=progress,
        decided=decided,
    )
    evidence = (
        known.sort("prior", descending=True)
        .group_by("source_code", "target_code", maintain_order=True)
        .agg(
            pl.col("prior").max(),
            pl.col("rule").unique(maintain_order=True).alias("known_rules"),
            pl.col("rule_equivalence").first(),
            pl.col("rule_reason").unique(maintain_order=True).str.join("; "),
        )
    )
    return pool.join(evidence, on=["source_code", "target_code"], how="left")


def _reasons(frame: pl.DataFrame, model: RankingModel) -> pl.Expr:
    """The sentence a curator reads: what proposed the candidate, then what ranked it."""
    language = (  # the language the labels were compared in, or none when the systems share none
        pl.when(pl.col("lex_lang") == ANY_LANGUAGE)
        .then(pl.lit(""))
        .otherwise(pl.format(" (in {})", "lex_lang"))
    )
    lexical = pl.when(pl.col("lex_source_label").is_not_null()).then(
        pl.format(
            'labels "{}" ~ "{}" {}{}',
            "lex_source_label",
            "lex_target_label",
            pl.col("lex_best").round(2),
            language,
        )
    )
    ancestor = pl.when((pl.col("cover_levels") > 0) & pl.col("cover_near_label").is_not_null()).then(
        pl.format(
            'hierarchy: {} level(s) above "{}", a close match ({})',
            pl.col("cover_levels").cast(pl.Int32),
            "cover_near_label",
            pl.col("cover_lex").round(2),
        )
    )
    context = pl.when(pl.col("parent_best_down").is_not_null() | pl.col("context_levels").is_not_null()).then(
        pl.format('context: parent "{}" is best matched to {}', "parent_label", "parent_best")
    )
    near_decided = pl.when(
        pl.col("decided_parent").is_not_null() | pl.col("decided_sibling").is_not_null()
    ).then(pl.lit("near the target curators chose for its parent or a sibling"))
    rewritten = pl.when(pl.col("lex_rewrites").list.len() > 0).then(
        pl.lit("rewritten by ") + pl.col("lex_rewrites").list.join(", ")
    )
    baseline = pl.when(pl.col("lex_source_label").is_null() & pl.col("tfidf_cos").is_not_null()).then(
        pl.format(
            "3-gram TF-IDF cosine {} (rank {} among the targets)",
            pl.col("tfidf_cos").round(2),
            pl.col("tfidf_rank").cast(pl.Int32),
        )
    )
    same = pl.when(pl.col("same_label").fill_null(False)).then(pl.lit("same label as the source"))
    ranked_by = pl.format("{} p = {}", pl.lit(f"ranked by the {model.describe()}:"), pl.col("score").round(2))
    return pl.concat_str(
        [
            pl.col("rule_reason"),
            same,
            lexical,
            baseline,
            rewritten,
            ancestor,
            context,
            near_decided,
            ranked_by,
        ],
        separator="; ",
        ignore_nulls=True,
    ).alias("reason")


def _primary_method(methods: list[str]) -> MatchMethod:
    found = set(methods)
    return next(m for m in METHOD_PRIORITY if m.value in found)


def score_pool(pool: pl.DataFrame, model: RankingModel) -> pl.DataFrame:
    """The pool with ``score``, ``closeness`` and ``rank`` per source, in the pool's own row
    order; a pair given by a code rule or the memory keeps at least the confidence its rule
    gives it (curators configured it; a project model learns when to trust it more).
    Equivalences and reasons are left to :func:`describe`, for the rows that are shown."""
    if pool.is_empty():
        return pool.with_columns(
            pl.lit(None, dtype=pl.Float64).alias("score"),
            pl.lit(None, dtype=pl.Float64).alias("closeness"),
            pl.lit(None, dtype=pl.Int64).alias("rank"),
        )
    score = pl.Series("score", model.probabilities(pool), dtype=pl.Float64)
    scored = pool.with_columns(score, closeness())
    if "prior" in scored.columns:
        scored = scored.with_columns(
            pl.max_horizontal("score", pl.col("prior").fill_null(0.0)).alias("score")
        )
    return scored.with_columns(ranks(scored))


def describe(scored: pl.DataFrame, model: RankingModel) -> pl.DataFrame:
    """Scored rows with their ``equivalence`` (a rule's wins over the predicted one) and the
    ``reason`` a curator reads."""
    equivalence = pl.Series("equivalence", model.equivalences(scored), dtype=pl.String)
    described = scored.with_columns(equivalence)
    if "rule_equivalence" in described.columns:
        described = described.with_columns(
            pl.coalesce("rule_equivalence", "equivalence").alias("equivalence")
        )
    return described.with_columns(_reasons(described, model))


def rank_pool(pool: pl.DataFrame, model: RankingModel) -> pl.DataFrame:
    """The whole pool scored, described and sorted best first per source (what the quality
    benchmark and the notebooks read; matching itself describes only what it shows)."""
    return describe(score_pool(pool, model), model).sort(RANKING_ORDER, descending=RANKING_DESCENDING)


def match(
    store: VersionReader,
    source: CodeSystem,
    target: CodeSystem,
    *,
    code_rules: list[CodeRule] | None = None,
    property_rules: list[PropertyRule] | None = None,
    memory: MappingMemory | None = None,
    label_rewrites: list[LabelRewrite] | None = None,
    chapter_rules: list[ChapterRule] | None = None,
    normaliser: Normaliser | None = None,
    model: RankingModel | Callable[[pl.DataFrame], RankingModel] | None = None,
    top_k: int = 5,
    min_score: float = 0.0,
    pool_settings: PoolSettings | None = None,
    decided: Mapping[str, Sequence[str]] | None = None,
    progress: Callable[[int], None] = lambda _: None,
) -> list[Candidate]:
    """The ``top_k`` best candidates of every source concept, ranked by ``model`` (the
    shipped default model unless told), the score being the estimated probability that
    curators validate the pair.

    ``min_score`` filters what is *shown*, never what is ranked: a source concept with any
    candidate keeps its best one whatever its score, so no concept is left without a
    proposal because its best one is unsure.

    ``model`` may also be a function of the candidate pool (a project's model is fitted on
    the pool its curators decided from)."""
    frames = read_frames(
        store,
        source,
        target,
        source_properties=[rule.property for rule in property_rules or [] if not rule.from_label],
        target_properties=[rule.target_property or rule.property for rule in property_rules or []],
    )
    pool = candidate_pool(
        frames,
        code_rules=code_rules,
        memory=memory,
        label_rewrites=label_rewrites,
        normaliser=normaliser,
        pool_settings=pool_settings,
        decided=decided,
        progress=progress,
    )
    ranking = model(pool) if callable(model) else (model or default_model())
    scored = score_pool(pool, ranking)
    del pool  # the scored frame shares its columns; nothing else holds the pool
    shown = shown_rows(
        scored,
        frames,
        model=ranking,
        property_rules=property_rules or [],
        chapter_rules=chapter_rules or [],
        top_k=top_k,
        min_score=min_score,
    )
    del scored  # the candidates are built from the rows shown alone
    return candidate_records(shown)


def _same_labels_dropped(frame: pl.DataFrame, constrained: pl.DataFrame) -> pl.DataFrame:
    """The same-label pairs the constraint rules dropped, back, saying so: a target whose
    label is the source's own is the first one a curator looks for, and no correspondence
    between chapters or properties may hide it (no rule kind excludes a code by name)."""
    return (
        frame.filter(pl.col("same_label"))
        .join(constrained, on=["source_code", "target_code"], how="anti")
        .with_columns(
            (pl.col("reason") + "; kept: same label as the source, whatever the rules say").alias("reason")
        )
    )


def shown_rows(
    scored: pl.DataFrame,
    frames: MatchingFrames,
    *,
    model: RankingModel,
    property_rules: list[PropertyRule],
    chapter_rules: list[ChapterRule],
    top_k: int,
    min_score: float,
) -> pl.DataFrame:
    """Apply the constraint rules (each source keeps its best candidate if a rule would
    leave it none; a same-label target is never dropped), keep the ``top_k`` best per
    source and those at ``min_score`` or above (the best one always) and describe them
    (equivalence, reason): the rows :func:`candidate_records` turns into candidates.

    The rules run on a narrow frame (row, codes, score, what they append to the reason):
    the wide scored pool is read again only for the rows shown."""
    narrow = scored.select(
        pl.int_range(pl.len(), dtype=pl.Int64).alias("row"),
        "source_code",
        "target_code",
        "score",
        "closeness",
        (pl.col("same_label").fill_null(False) if "same_label" in scored.columns else pl.lit(False)).alias(
            "same_label"
        ),
        pl.lit("").alias("reason"),
    )
    if property_rules:  # a rule may read a value out of the source's display
        narrow = narrow.join(
            frames.source.displays().select(source_code="code", source_label="label"),
            on="source_code",
            how="left",
        )
    constrained = apply_property_rules(property_rules, frames, narrow).select(narrow.columns)
    constrained = apply_chapter_rules(chapter_rules, frames, constrained)
    constrained = pl.concat([constrained, _same_labels_dropped(narrow, constrained)]).drop(
        "source_label", strict=False
    )
    narrow = narrow.drop("source_label", strict=False)
    orphans = narrow.join(constrained.select("source_code").unique(), on="source_code", how="anti")
    kept_anyway = (
        orphans.sort(["source_code", "score"], descending=[False, True])
        .unique("source_code", keep="first")
        .with_columns(
            (pl.col("reason") + "; kept: the rules leave this source no other candidate").alias("reason")
        )
    )
    chosen = pl.concat([constrained, kept_anyway])
    chosen = chosen.with_columns(ranks(chosen)).filter(
        ((pl.col("rank") <= top_k) & ((pl.col("score") >= min_score) | (pl.col("rank") == 1)))
        | pl.col("same_label")
    )
    wide = describe(scored[chosen.get_column("row")].drop("rank"), model)  # reasons quote the model's p
    return (
        pl.concat(
            [
                wide.select(pl.exclude("reason", "score")),
                chosen.select("score", "rank", pl.col("reason").alias("notes")),
                wide.select("reason"),
            ],
            how="horizontal",
        )
        .with_columns((pl.col("reason") + pl.col("notes")).alias("reason"))
        .join(
            frames.source.displays().select(source_code="code", source_label="label"),
            on="source_code",
            how="left",
        )
        .join(
            frames.target.displays().select(target_code="code", target_label="label"),
            on="target_code",
            how="left",
        )
        .with_columns(
            pl.concat_list(
                pl.col("known_rules").fill_null(pl.lit([], dtype=pl.List(pl.String)))
                if "known_rules" in wide.columns
                else pl.lit([], dtype=pl.List(pl.String)),
                pl.col("lex_rewrites").fill_null(pl.lit([], dtype=pl.List(pl.String))),
            )
            .list.unique(maintain_order=True)
            .alias("rule_ids")
        )
        .sort(RANKING_ORDER, descending=RANKING_DESCENDING)
    )


def candidate_records(shown: pl.DataFrame) -> list[Candidate]:
    """The rows shown as :class:`Candidate` records (made once the scored pool is freed: a
    CIM-11 match's 180,000 candidates are a few hundred MB of Python objects)."""
    return [
        Candidate(
            source_code=row["source_code"],
            source_label=row["source_label"],
            target_code=row["target_code"],
            target_label=row["target_label"],
            rank=row["rank"],
            score=round(min(max(row["score"], 0.0), 1.0), 4),
            equivalence=row["equivalence"],
            method=_primary_method(row["methods"]),
            rules=tuple(row["rule_ids"]),
            reason=row["reason"],
        )
        for row in shown.select(
            "source_code",
            "source_label",
            "target_code",
            "target_label",
            "rank",
            "score",
            "equivalence",
            "methods",
            "rule_ids",
            "reason",
        ).iter_rows(named=True)
    ]
