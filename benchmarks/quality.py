"""Matching quality against real curated gold tables, beside a TF-IDF baseline in the same run.

Usage: ``python benchmarks/quality.py [--only samu|hl7|icd10]``

Gold sets (all in ``data/``):

* ``samu``: the SAMU-Hub nomenclature correspondence 1.9 ↔ 2.3, both directions, validated
  by ANSC and ANS;
* ``hl7``: the FHIR R4 example ConceptMaps, pairs with a label on both sides, each map's
  target codes as the target vocabulary;
* ``icd10``: WHO ICD-10 2019 → ICD-10-CM 2026, the same code in both being the gold.

For each it reports top-1 accuracy and recall@5 (overall and by equivalence) for
Concordance with labels only, Concordance with the shipped rules (and, for ``hl7``, the
mapping memory of the *other* maps: leave-one-map-out), and the baseline: character
3-gram TF-IDF cosine over the same labels (the approach of OHDSI Usagi). The baseline
proposes only targets sharing a 3-gram with the source: a zero cosine is no evidence,
and counting it would let whichever target is listed first win every tie.
"""

from __future__ import annotations

import argparse
import csv
import sys
import tempfile
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import polars as pl
from scipy import sparse

from terminology.importers import importer_class
from terminology.importing import import_code_system
from terminology.matching.engine import match
from terminology.matching.memory import MappingMemory, RememberedMapping
from terminology.matching.rules import RuleSet, load_rules
from terminology.models import CodeSystem, CodeSystemMetadata
from terminology.settings import Settings
from terminology.storage import migrate
from terminology.storage.engine import make_engine
from terminology.storage.store import SqlStore

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "data"
RULES = ROOT / "mapping_rules" / "rules"


@dataclass
class Task:
    """One source → target alignment with its gold pairs (source code → targets, kind)."""

    source: CodeSystem
    target: CodeSystem
    gold: dict[str, tuple[set[str], str]]
    rules: list[Path] = field(default_factory=list)
    memory: MappingMemory = field(default_factory=MappingMemory)
    """Validated pairs from elsewhere (never from this task's own gold)."""


def load_csv(
    store: SqlStore, path: Path, url: str, version: str, language: str, **options: str
) -> CodeSystem:
    metadata = CodeSystemMetadata(url=url, version=version, language=language, name=url.rsplit(":", 1)[-1])
    importer = importer_class("csv").with_options(options)
    return import_code_system(store, importer, path, overrides=metadata).code_system


def samu_tasks(store: SqlStore) -> Iterator[Task]:
    folder = DATA / "samu_nomenclature"
    systems = {
        v: load_csv(store, folder / f"samu_nomenclature_v{v}.csv", "urn:samu", v, "fr")
        for v in ("1.9", "2.3")
    }
    gold: dict[tuple[str, str], dict[str, tuple[set[str], str]]] = defaultdict(dict)
    with (folder / "samu_nomenclature_pairs.csv").open(encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            if row["target_code"]:
                pairs = gold[(row["source_version"], row["target_version"])]
                pairs.setdefault(row["source_code"], (set(), "equivalent"))[0].add(row["target_code"])
    for (source, target), pairs in gold.items():
        rules = [RULES / "nomenclature_upgrade.yaml", RULES / "samu_nomenclature.yaml"]
        yield Task(systems[source], systems[target], pairs, rules)


def hl7_tasks(store: SqlStore, workdir: Path) -> Iterator[Task]:
    """One task per map. Each map's target is loaded under its real system URL, so the
    memory of the *other* maps' validated pairs applies (leave-one-map-out)."""
    pairs = pl.read_csv(DATA / "hl7_conceptmaps" / "fhir_r4_conceptmap_pairs.csv", infer_schema=False)
    labelled = pairs.filter(
        pl.col("source_display").is_not_null()
        & pl.col("target_display").is_not_null()
        & (pl.col("equivalence") != "unmatched")
    )
    for (map_id,), rows in labelled.group_by(["conceptmap_id"], maintain_order=True):
        target_url = rows.get_column("target_system").mode().sort().first()
        sides = {}
        for side, url in (("source", f"urn:hl7:{map_id}:source"), ("target", target_url)):
            path = workdir / f"{map_id}-{side}.csv"
            rows.select(code=f"{side}_code", display=f"{side}_display").unique("code").sort("code").write_csv(
                path
            )
            sides[side] = load_csv(store, path, str(url), str(map_id), "en")
        gold: dict[str, tuple[set[str], str]] = {}
        for row in rows.iter_rows(named=True):
            gold.setdefault(row["source_code"], (set(), row["equivalence"]))[0].add(row["target_code"])
        others = labelled.filter(pl.col("conceptmap_id") != map_id)
        memory = MappingMemory(
            tuple(
                RememberedMapping(
                    r["source_display"],
                    r["target_system"],
                    r["target_code"],
                    r["equivalence"],
                    r["conceptmap_id"],
                )
                for r in others.iter_rows(named=True)
            )
        )
        yield Task(sides["source"], sides["target"], gold, [RULES / "hl7_code_tables.yaml"], memory)


def icd10_tasks(store: SqlStore) -> Iterator[Task]:
    who = import_code_system(
        store,
        importer_class("claml").with_options({}),
        DATA / "icd10_who_2019" / "icd10_who_2019.claml.xml",
        overrides=CodeSystemMetadata(url="http://hl7.org/fhir/sid/icd-10", language="en"),
    ).code_system
    cm = load_csv(
        store,
        DATA / "icd10cm_2026" / "icd10cm_2026_concepts.csv",
        "http://hl7.org/fhir/sid/icd-10-cm",
        "2026",
        "en",
        display_column="label_en",
        parent_column="parent_code",
    )
    who_codes = {c for c in store.labels_frame(who).get_column("code").to_list()}
    cm_codes = set(store.labels_frame(cm).get_column("code").to_list())
    gold = {
        code: ({code}, "equivalent")
        for code in sorted(who_codes & cm_codes)
        if not code[0].isdigit() and "-" not in code
    }
    yield Task(who, cm, gold, [RULES / "icd10_editions.yaml"])


def tfidf_top(store: SqlStore, task: Task, k: int = 5) -> dict[str, list[str]]:
    """Baseline: character 3-gram TF-IDF cosine between every label pair, best label per concept."""
    source = store.labels_frame(task.source).filter(pl.col("code").is_in(list(task.gold)))
    target = store.labels_frame(task.target)

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

    queries, documents_matrix = (
        matrix(source_grams, source.height),
        matrix(target_grams, target.height).T.tocsc(),
    )
    source_codes, target_codes = source.get_column("code").to_list(), target.get_column("code").to_list()
    best: dict[str, dict[str, float]] = defaultdict(dict)
    for start in range(0, source.height, 512):
        scores = (queries[start : start + 512] @ documents_matrix).toarray()
        top = np.argsort(-scores, axis=1)[:, : 4 * k]
        for offset, columns in enumerate(top):
            ranked = best[source_codes[start + offset]]
            for column in columns:
                if scores[offset, column] <= 0:
                    break  # no shared 3-gram: no evidence, and the first-listed target would win every tie
                code = target_codes[column]
                ranked[code] = max(ranked.get(code, 0.0), float(scores[offset, column]))
    return {code: sorted(ranked, key=lambda c: -ranked[c])[:k] for code, ranked in best.items()}


def concordance_top(store: SqlStore, task: Task, with_rules: bool, k: int = 5) -> dict[str, list[str]]:
    rules = load_rules(task.rules) if with_rules else RuleSet()
    ranked: dict[str, list[str]] = defaultdict(list)
    found = match(
        store,
        task.source,
        task.target,
        **rules.engine_options(),
        memory=task.memory if with_rules else None,
        top_k=k,
        min_score=0.0,
    )
    for candidate in found:
        ranked[candidate.source_code].append(candidate.target_code)
    return ranked


def score(tasks: list[Task], ranked: list[dict[str, list[str]]]) -> dict[str, tuple[float, float, int]]:
    """Top-1 and recall@5 per equivalence kind and overall."""
    hits: dict[str, list[tuple[bool, bool]]] = defaultdict(list)
    for task, found in zip(tasks, ranked, strict=True):
        for code, (targets, kind) in task.gold.items():
            proposals = found.get(code, [])
            outcome = (bool(proposals) and proposals[0] in targets, bool(set(proposals[:5]) & targets))
            hits[kind].append(outcome)
            hits["all"].append(outcome)
    return {
        kind: (float(np.mean([a for a, _ in v])), float(np.mean([b for _, b in v])), len(v))
        for kind, v in hits.items()
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", choices=["samu", "hl7", "icd10"])
    args = parser.parse_args()
    ok = True
    with tempfile.TemporaryDirectory() as tmp:
        engine = make_engine(Settings(database_url=f"sqlite:///{tmp}/quality.db"))
        migrate.upgrade(engine)
        store = SqlStore(engine)
        sets = {
            "samu": lambda: list(samu_tasks(store)),
            "hl7": lambda: list(hl7_tasks(store, Path(tmp))),
            "icd10": lambda: list(icd10_tasks(store)),
        }
        print(
            "gold set kind         pairs |  top-1    R@5 labels |  top-1    R@5 +rules* |"
            "  top-1    R@5 TF-IDF"
        )
        for name, build in sets.items():
            if args.only and name != args.only:
                continue
            tasks = build()
            labels = score(tasks, [concordance_top(store, t, False) for t in tasks])
            rules = score(tasks, [concordance_top(store, t, True) for t in tasks])
            baseline = score(tasks, [tfidf_top(store, t) for t in tasks])
            for kind in sorted(labels, key=lambda k: (k != "all", k)):
                (l1, l5, n), (r1, r5, _), (b1, b5, _) = labels[kind], rules[kind], baseline[kind]
                cells = f"{l1:>6.3f} {l5:>6.3f}        | {r1:>6.3f} {r5:>6.3f}        | {b1:>6.3f} {b5:>6.3f}"
                print(f"{name:<8} {kind:<11} {n:>6} | {cells}")
            (r1, r5, _), (b1, b5, _) = rules["all"], baseline["all"]
            ok = ok and r1 > b1 and r5 > b5
    print(
        "\nOK: Concordance beats the baseline on every gold set"
        if ok
        else "\nFAIL: the baseline wins somewhere"
    )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
