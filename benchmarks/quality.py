"""Matching quality against real gold sets, beside a TF-IDF baseline run in the same process.

Usage: ``python benchmarks/quality.py [--only cm_who,who_cm,cim10fr_who,samu,hl7]``

Every gold set of ``gold_sets.py`` is scored on its half 1 (``gold_sets.variants``), for:

* **leave-one-task-out** (the headline): Concordance ranked by a model trained on half 0
  of every *other* gold set — never on this one, in any variant — labels only;
* **in-distribution** (labelled so): the shipped model, trained on half 0 of every set
  including this one;
* **TF-IDF** — character 3-gram TF-IDF cosine over the same labels (the approach of
  OHDSI Usagi), free to propose any target concept like Concordance: every target is
  ranked, ties broken by code as Concordance breaks them;

with the calibration error (ECE) of the leave-one-task-out scores on what a curator sees
(each source's top 5), Concordance's top-1 errors by kind (too specific: a descendant of
the gold; too general: an ancestor; sibling; unrelated; no candidate), and the learning
curve at 0 / 5 / 10 / 25 % of sources decided — taken at random, or in the "most useful
to decide next" order (:func:`terminology.matching.learning.informative_order`) — with the
project model fitted on them and only the sources never decided scored (on at most 3,000
scored sources of each variant, chosen by a fixed hash).
"""

from __future__ import annotations

import argparse
import hashlib
import sys
import tempfile
import time
from collections import Counter, defaultdict
from collections.abc import Callable
from pathlib import Path

import numpy as np
import polars as pl
from scipy import sparse

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.gold_sets import Gold, Task, training_share, variants
from benchmarks.training import VariantPool, fit_on, training_rows, variant_pool
from terminology.matching.engine import candidate_pool, rank_pool
from terminology.matching.frames import read_frames
from terminology.matching.hierarchy import ancestor_closure
from terminology.matching.learning import informative_order
from terminology.matching.ranker import (
    RankingModel,
    default_model,
    expected_calibration_error,
    fit_project_model,
    label_pool,
    top_targets,
)
from terminology.settings import Settings
from terminology.storage import migrate
from terminology.storage.database import SqlDatabase
from terminology.storage.engine import make_engine
from terminology.storage.store import SqlStore

LEARNING = (0.05, 0.10, 0.25)
Ranked = dict[str, list[str]]


def decided_share(code: str, share: float) -> bool:
    """Whether a source is among the first ``share`` decided (a fixed pseudo-random order)."""
    return hashlib.sha256(("decided:" + code).encode()).digest()[0] < share * 256


def tfidf_top(store: SqlStore, task: Task, k: int = 5) -> Ranked:
    """Baseline: character 3-gram TF-IDF cosine between every label pair (all labels of
    both sides), best label per concept, every target ranked, ties by target code."""
    source = store.labels_frame(task.source).filter(pl.col("code").is_in(list(task.gold)))
    target = store.labels_frame(task.target).filter(pl.col("active"))

    def grams(frame: pl.DataFrame) -> pl.DataFrame:
        padded = pl.lit("  ") + pl.col("label").str.to_lowercase() + pl.lit("  ")
        return (
            frame.with_row_index("row")
            .select("row", pl.int_ranges(0, padded.str.len_chars() - 2).alias("at"), padded.alias("text"))
            .explode("at")
            .select("row", pl.col("text").str.slice(pl.col("at"), 3).alias("gram"))
        )

    target_grams, source_grams = grams(target), grams(source)
    vocabulary = target_grams.select("gram").unique().with_row_index("column")
    documents = target.height
    idf = (
        target_grams.unique()
        .group_by("gram")
        .len()
        .select("gram", (np.log(documents / pl.col("len")) + 1).alias("idf"))
    )

    def matrix(frame: pl.DataFrame, rows: int) -> sparse.csr_matrix:
        counts = frame.group_by("row", "gram").len().join(vocabulary, on="gram").join(idf, on="gram")
        values = (counts.get_column("len") * counts.get_column("idf")).to_numpy()
        built = sparse.csr_matrix(
            (values, (counts.get_column("row").to_numpy(), counts.get_column("column").to_numpy())),
            shape=(rows, vocabulary.height),
        )
        norms = np.sqrt(built.multiply(built).sum(axis=1)).A1
        norms[norms == 0] = 1
        return sparse.diags(1 / norms) @ built

    queries = matrix(source_grams, source.height)
    documents_matrix = matrix(target_grams, target.height).T.tocsc()
    source_codes = source.get_column("code").to_list()
    target_codes = np.asarray(target.get_column("code").to_list(), dtype=object)
    codes, code_of_row = np.unique(target_codes, return_inverse=True)  # sorted codes: ties go to the lowest
    best: Ranked = {}
    for start in range(0, source.height, 256):
        scores = (queries[start : start + 256] @ documents_matrix).toarray()
        per_code = np.full((scores.shape[0], len(codes)), -1.0)
        np.maximum.at(per_code, (slice(None), code_of_row), scores)
        order = np.argsort(-per_code, axis=1, kind="stable")[:, : 4 * k]
        for offset, columns in enumerate(order):
            code = source_codes[start + offset]
            ranked = [(per_code[offset, c], str(codes[c])) for c in columns]
            merged = {t: s for s, t in ranked}
            previous = best.get(code, [])
            for t in previous:
                merged.setdefault(t, 0.0)
            best[code] = sorted(merged, key=lambda t: (-merged[t], t))[: 4 * k]
    return {code: targets[:k] for code, targets in best.items()}


def score(gold: Gold, ranked: Ranked, k: int = 5) -> dict[str, list[tuple[bool, bool]]]:
    """(top-1 hit, recall@k hit) per source, by equivalence kind and overall."""
    hits: dict[str, list[tuple[bool, bool]]] = defaultdict(list)
    for code, (targets, kind) in gold.items():
        proposals = ranked.get(code, [])
        outcome = (bool(proposals) and proposals[0] in targets, bool(set(proposals[:k]) & targets))
        hits[kind].append(outcome)
        hits["all"].append(outcome)
    return hits


def rates(hits: list[tuple[bool, bool]]) -> tuple[float, float]:
    return (
        (float(np.mean([a for a, _ in hits])), float(np.mean([b for _, b in hits]))) if hits else (0.0, 0.0)
    )


Hits = dict[str, list[tuple[bool, bool]]]


class Measure:
    """One row of the table: hits per configuration and kind, over the variant's tasks."""

    def __init__(self) -> None:
        self.hits: dict[str, Hits] = defaultdict(lambda: defaultdict(list))
        self.calibration: list[tuple[np.ndarray, np.ndarray]] = []
        self.errors: Counter[str] = Counter()

    def add(self, config: str, gold: Gold, ranked: Ranked) -> None:
        for kind, outcomes in score(gold, ranked).items():
            self.hits[config][kind].extend(outcomes)


class Placement:
    """Where a proposed target sits against the gold one, in the target's hierarchy."""

    def __init__(self, store: SqlStore, task: Task) -> None:
        parents = store.parents_frame(task.target)
        closure = ancestor_closure(parents)
        self.ancestors: dict[str, set[str]] = defaultdict(set)
        for code, ancestor in closure.select("code", "ancestor").iter_rows():
            self.ancestors[code].add(ancestor)
        self.parents: dict[str, set[str]] = defaultdict(set)
        for code, parent in parents.iter_rows():
            self.parents[code].add(parent)

    def kind(self, proposed: str | None, gold: set[str]) -> str:
        if proposed is None:
            return "no candidate"
        if proposed in gold:
            return "right"
        if gold & self.ancestors[proposed]:
            return "too specific"
        if any(proposed in self.ancestors[g] for g in gold):
            return "too general"
        if any(self.parents[proposed] & self.parents[g] for g in gold):
            return "sibling"
        return "unrelated"


def learning_curve(
    measure: Measure,
    base: RankingModel,
    rebuild: Callable[[dict[str, list[str]]], pl.DataFrame],
    ranked: pl.DataFrame,
    gold: Gold,
) -> None:
    """Decide a share of the sources (at random, or most useful first): the pool is built
    again with those decisions (their neighbours get the decided-neighbour candidates and
    evidence), the project model is fitted on them, and only the sources that *neither* order
    decided are scored: the uncertain sources the informative order takes first are also the
    hardest, so scoring each order on its own rest would flatter it."""
    useful = informative_order(ranked)
    for share in LEARNING:
        count = round(share * len(gold))
        orders = {
            "random": [code for code in sorted(gold) if decided_share(code, share)],
            "informative": [code for code in useful if code in gold][:count],
        }
        either = {code for decided_list in orders.values() for code in decided_list}
        remaining = {code: value for code, value in gold.items() if code not in either}
        measure.add(f"untaught +{share:.0%}", remaining, top_targets(ranked, 5))
        for order, decided_list in orders.items():
            decided = set(decided_list)
            pool = rebuild({code: sorted(gold[code][0]) for code in sorted(decided)})
            labelled = label_pool(pool, {code: gold[code] for code in decided})
            project = fit_project_model(
                base,
                labelled.filter(pl.col("source_code").is_in(list(decided))).sort(
                    "source_code", "target_code"
                ),
                name="project",
                decisions=len(decided),
            )
            rest = pool.filter(pl.col("source_code").is_in(list(remaining)))
            measure.add(f"{order} +{share:.0%}", remaining, top_targets(rank_pool(rest, project), 5))


def measure_variant(
    store: SqlStore, pool: VariantPool, loto: RankingModel, measure: Measure, *, curve: bool
) -> None:
    scored = pool.variant.score
    if not scored:
        return
    task = pool.variant.task
    ranked = rank_pool(pool.score, loto)
    top5 = top_targets(ranked, 5)
    measure.add("loto", scored, top5)
    shown = label_pool(ranked.filter(pl.col("rank") <= 5), scored)
    measure.calibration.append(
        (shown.get_column("score").to_numpy(), shown.get_column("validated").to_numpy())
    )
    placement = Placement(store, task)
    for code, (targets, _) in scored.items():
        first = top5.get(code, [])
        measure.errors[placement.kind(first[0] if first else None, targets)] += 1
    measure.add("in-distribution", scored, top_targets(rank_pool(pool.score, default_model()), 5))
    measure.add("TF-IDF", scored, tfidf_top(store, Task(task.name, task.source, task.target, scored), 5))
    if curve:
        sample = training_share(scored)  # at most 3,000 scored sources, by a fixed hash
        kept = ranked.filter(pl.col("source_code").is_in(list(sample)))
        measure.add("curve +0%", sample, top_targets(kept, 5))
        frames = read_frames(store, task.source, task.target)

        def rebuild(decided: dict[str, list[str]]) -> pl.DataFrame:
            return candidate_pool(
                frames, hierarchies=pool.variant.hierarchies, decided=decided or None
            ).filter(pl.col("source_code").is_in(list(sample)))

        learning_curve(measure, loto, rebuild, kept, sample)


def clearly_ahead(ours: float, baseline: float) -> bool:
    """Ahead by 0.05, or, where the baseline is above 0.90, with at most half its misses."""
    if baseline > 0.90:
        return (1 - ours) <= 0.5 * (1 - baseline) + 1e-12
    return ours - baseline >= 0.05 - 1e-12


def rows_of(name: str, measure: Measure) -> list[str]:
    lines = []
    ece = expected_calibration_error(
        np.concatenate([p for p, _ in measure.calibration]),
        np.concatenate([v for _, v in measure.calibration]),
    )
    for kind in sorted(measure.hits["loto"], key=lambda k: (k != "all", k)):
        (l1, l5), (b1, b5) = rates(measure.hits["loto"][kind]), rates(measure.hits["TF-IDF"][kind])
        i1, i5 = rates(measure.hits["in-distribution"][kind])
        verdict = (
            "BEHIND"
            if l1 < b1 or l5 < b5
            else ("clearly ahead" if clearly_ahead(l1, b1) and clearly_ahead(l5, b5) else "ahead")
        )
        lines.append(
            f"| {name} | {kind} | {len(measure.hits['loto'][kind]):,} | **{l1:.3f} / {l5:.3f}** | "
            f"{b1:.3f} / {b5:.3f} | {verdict} | {i1:.3f} / {i5:.3f} | "
            + (f"{ece:.3f} |" if kind == "all" else " |")
        )
    return lines


def error_line(name: str, measure: Measure) -> str:
    total = sum(count for kind, count in measure.errors.items() if kind != "right") or 1
    kinds = ("too specific", "too general", "sibling", "unrelated", "no candidate")
    return f"| {name} | {total:,} | " + " | ".join(f"{measure.errors[k] / total:.0%}" for k in kinds) + " |"


def curve_line(name: str, measure: Measure) -> str:
    cells = [f"{rates(measure.hits['curve +0%']['all'])[0]:.3f}"]
    for share in LEARNING:
        untaught = rates(measure.hits[f"untaught +{share:.0%}"]["all"])[0]
        random_top1 = rates(measure.hits[f"random +{share:.0%}"]["all"])[0]
        useful_top1 = rates(measure.hits[f"informative +{share:.0%}"]["all"])[0]
        cells.append(f"{untaught:.3f} → {random_top1:.3f} / {useful_top1:.3f}")
    return f"| {name} | " + " | ".join(cells) + " |"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", help="comma-separated gold sets")
    parser.add_argument("--no-curve", action="store_true", help="skip the learning curves")
    args = parser.parse_args()
    wanted = set(args.only.split(",")) if args.only else None
    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        engine = make_engine(Settings(database_url=f"sqlite:///{tmp}/quality.db"))
        migrate.upgrade(engine)
        store = SqlDatabase(engine)
        pools = [variant_pool(store, variant) for variant in variants(store, Path(tmp))]
        print(
            f"pools of {len(pools)} variants built in {time.perf_counter() - started:.0f} s", file=sys.stderr
        )
        gold_sets = list(dict.fromkeys(p.variant.gold_set for p in pools))
        table = [
            "| gold set | kind | pairs | leave-one-task-out | TF-IDF baseline | verdict "
            "| in-distribution | ECE |",
            "|---|---|---:|---|---|---|---|---:|",
        ]
        errors = [
            "| gold set | top-1 misses | too specific | too general | sibling | unrelated | no candidate |"
        ]
        errors.append("|---|---:|---:|---:|---:|---:|---:|")
        curves = [
            "| gold set | 0 % | +5 %: rest untaught → random / informative | +10 % | +25 % |",
            "|---|---|---|---|---|",
        ]
        ok = True
        for gold_set in gold_sets:
            if wanted and gold_set not in wanted:
                continue
            loto = fit_on(training_rows(pools, leave_out=gold_set), name=f"without {gold_set}")
            rows: dict[str, Measure] = defaultdict(Measure)
            for pool in pools:
                if pool.variant.gold_set != gold_set:
                    continue
                row = (
                    gold_set
                    + (" (flat)" if not pool.variant.hierarchies else "")
                    + (" +rules/memory" if pool.variant.with_rules else "")
                )
                curve = not args.no_curve and pool.variant.hierarchies and not pool.variant.with_rules
                measure_variant(store, pool, loto, rows[row], curve=curve)
            for row, measure in rows.items():
                lines = rows_of(row, measure)
                table.extend(lines)
                errors.append(error_line(row, measure))
                if not args.no_curve and measure.hits.get("random +5%"):
                    curves.append(curve_line(row, measure))
                ok = ok and not any("BEHIND" in line for line in lines)
                print("\n".join(lines), flush=True)
            print(f"{gold_set}: {time.perf_counter() - started:.0f} s", file=sys.stderr, flush=True)
        engine.dispose()
    print("\n" + "\n".join(table))
    print("\nTop-1 errors by kind (leave-one-task-out model):\n" + "\n".join(errors))
    if not args.no_curve:
        print(
            "\nLearning curve, top-1 on the sources neither order decided: without the decisions, "
            "then after random / informative ones:"
        )
        print("\n".join(curves))
    print(
        "\nOK: Concordance is at least the baseline on every cell"
        if ok
        else "\nShort: the baseline is ahead of Concordance somewhere (BEHIND above)"
    )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
