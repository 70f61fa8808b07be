"""Indexed candidate search against an exhaustive rapidfuzz scan, in the same run.

Usage: ``python benchmarks/match_bench.py [--queries 2000] [--targets 100000] [--sample 200]``

Targets: real labels of CIM-10 FR (French), CIM-11 MMS (French and English) and
ICD-10-CM 2026 (English), normalised, de-duplicated, sampled to ``--targets``.
Queries: ICD-10 WHO 2019 English titles (``data/icd10_who_2019``), the
cross-edition search a coder does. The scorer is the engine's pair score
(:func:`terminology.matching.search.label_similarity`: rapidfuzz
``token_sort_ratio`` and 3-gram cosine). The exhaustive scan runs it on every
pair (``rapidfuzz.process.cdist`` on both cores, cosines from one sparse
product) for a random sample of the queries and is scaled up. Recall@5 counts
ties: a query is recalled when each of the index's top 5 scores at least the
exhaustive 5th best.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from pathlib import Path

import polars as pl
from defusedxml.ElementTree import parse

from terminology.matching.normalise import default_normaliser
from terminology.matching.search import LabelIndex, exhaustive_search

DATA = Path(__file__).resolve().parent.parent / "data"


def target_labels(count: int, seed: int) -> list[str]:
    frames = [
        pl.read_csv(DATA / "cim10_fr" / "cim10_fr_concepts.csv", infer_schema=False).select(label="label_fr"),
        pl.read_csv(DATA / "cim11_fr" / "cim11_mms_concepts.csv", infer_schema=False).select(
            label="label_fr"
        ),
        pl.read_csv(DATA / "cim11_fr" / "cim11_mms_concepts.csv", infer_schema=False).select(
            label="label_en"
        ),
        pl.read_csv(DATA / "icd10cm_2026" / "icd10cm_2026_concepts.csv", infer_schema=False).select(
            label="label_en"
        ),
    ]
    raw = pl.concat(frames).drop_nulls().get_column("label").to_list()
    normaliser = default_normaliser()
    labels = sorted({normaliser.normalise(label) for label in raw} - {""})
    random.Random(seed).shuffle(labels)
    return labels[:count]


def query_labels(count: int, seed: int) -> list[str]:
    root = parse(DATA / "icd10_who_2019" / "icd10_who_2019.claml.xml").getroot()
    titles = [label.text or "" for label in root.iter("Label")]
    normaliser = default_normaliser()
    queries = sorted({normaliser.normalise(title) for title in titles} - {""})
    random.Random(seed).shuffle(queries)
    return queries[:count]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--queries", type=int, default=2000)
    parser.add_argument("--targets", type=int, default=100_000)
    parser.add_argument("--sample", type=int, default=200, help="queries also scanned exhaustively")
    parser.add_argument("--seed", type=int, default=11)
    args = parser.parse_args()

    targets = target_labels(args.targets, args.seed)
    queries = query_labels(args.queries, args.seed)
    started = time.perf_counter()
    index = LabelIndex(targets)
    built = time.perf_counter() - started
    started = time.perf_counter()
    found = index.search(queries, top_k=5)
    indexed_seconds = time.perf_counter() - started

    sample = sorted(random.Random(args.seed).sample(range(len(queries)), min(args.sample, len(queries))))
    started = time.perf_counter()
    _, exhaustive_scores = exhaustive_search(
        targets, [queries[i] for i in sample], top_k=5, space=index.space
    )
    exhaustive_seconds = (time.perf_counter() - started) * len(queries) / len(sample)

    recalled = 0
    for row, query_number in enumerate(sample):
        fifth_best = exhaustive_scores[row][-1]
        ours = [hit.score for hit in found[query_number]]
        recalled += len(ours) == 5 and min(ours) >= fifth_best - 1e-4
    recall = recalled / len(sample)
    avoided = 1 - index.comparisons / (len(queries) * len(targets))
    touched = index.touched / (len(queries) * len(targets))
    speedup = exhaustive_seconds / indexed_seconds

    print(f"{len(queries):,} queries against {len(targets):,} target labels (index built in {built:.2f} s)")
    print(f"{'search':<28} {'seconds':>9}")
    print(f"{'indexed':<28} {indexed_seconds:>9.2f}")
    print(f"{'exhaustive (scaled from ' + str(len(sample)) + ')':<28} {exhaustive_seconds:>9.2f}")
    print(f"speed-up {speedup:,.0f}x, tie-aware recall@5 {recall:.3f}")
    print(
        f"pairs scored {1 - avoided:.2%} (comparisons avoided {avoided:.2%}); "
        f"pairs met through the index's postings {touched:.1%}"
    )
    # The target of the matching issue: recall kept, and the index fast in absolute terms
    # (a ratio against the exhaustive scan depended on the scorer's own cost).
    ok = recall >= 0.99 and indexed_seconds <= 1.5
    print("OK" if ok else "FAIL: needs recall@5 >= 0.99 in at most 1.5 s")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
