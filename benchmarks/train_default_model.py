"""Train the ranking model shipped in the package (``terminology/matching/default_model.json``).

Usage: ``python benchmarks/train_default_model.py [--check] [--out FILE]``

Trained on half 0 of two gold sets of ``gold_sets.py`` (ICD-10-CM → ICD-10 WHO, both
the same-code and the narrower-source sources, and ICD-10 WHO → ICD-10-CM, the latter
also read as two flat lists, as local code lists come), labels only, no rules;
calibrated on a tenth of that half kept out of training. Half 1 and the SAMU-Hub and
HL7 gold sets are never seen: ``quality.py`` measures on them.
Deterministic (one thread, fixed seed, rows sorted): ``--check`` retrains and fails
if the result differs from the shipped file by a byte.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import polars as pl

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.gold_sets import Task, calibration_share, cm_who_task, split, who_cm_task
from terminology.matching.engine import candidate_pool
from terminology.matching.frames import read_frames
from terminology.matching.ranker import DEFAULT_MODEL, fit_base_model, label_pool
from terminology.settings import Settings
from terminology.storage import migrate
from terminology.storage.engine import make_engine
from terminology.storage.store import SqlStore


def training_pool(store: SqlStore, task: Task, *, hierarchies: bool = True) -> pl.DataFrame:
    """The labels-only pool of the task's half-0 sources, labelled from its gold."""
    pool = candidate_pool(read_frames(store, task.source, task.target), hierarchies=hierarchies)
    name = task.name if hierarchies else f"{task.name} (flat)"
    return label_pool(pool, split(task.gold, 0)).with_columns(pl.lit(name).alias("task"))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_MODEL)
    parser.add_argument("--check", action="store_true", help="fail if the retrained model differs")
    args = parser.parse_args()
    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        engine = make_engine(Settings(database_url=f"sqlite:///{tmp}/train.db"))
        migrate.upgrade(engine)
        store = SqlStore(engine)
        cm_who, who_cm = cm_who_task(store), who_cm_task(store)
        pools = [
            training_pool(store, cm_who),
            training_pool(store, who_cm),
            training_pool(store, who_cm, hierarchies=False),  # a flat code list, like most local ones
        ]
        pool = pl.concat(pools, how="diagonal_relaxed").sort("task", "source_code", "target_code")
    held = pool.get_column("source_code").map_elements(calibration_share, return_dtype=pl.Boolean)
    train, calibrate = pool.filter(~held), pool.filter(held)
    provenance = {
        "script": "benchmarks/train_default_model.py",
        "gold_sets": "benchmarks/gold_sets.py: cm_who, who_cm and who_cm read without hierarchies, half 0 "
        "(labels only, no rules)",
        "data": [
            "data/icd10cm_2026/icd10cm_2026_concepts.csv",
            "data/icd10_who_2019/icd10_who_2019.claml.xml",
        ],
        "rows": {"train": train.height, "calibrate": calibrate.height},
        "sources": {
            "train": train.get_column("source_code").n_unique(),
            "calibrate": calibrate.get_column("source_code").n_unique(),
        },
    }
    model = fit_base_model(train, calibrate, name="default", provenance=provenance)
    text = model.to_json() + "\n"
    print(
        f"trained on {provenance['rows']} rows in {time.perf_counter() - started:.0f} s; "
        f"calibration a={model.calibration[0]:.3f} b={model.calibration[1]:.3f}; "
        f"equivalences {model.equivalence_classes}"
    )
    if args.check:
        same = args.out.exists() and args.out.read_text(encoding="utf-8") == text
        print("identical to the shipped model" if same else f"DIFFERS from {args.out}")
        return 0 if same else 1
    args.out.write_text(text, encoding="utf-8")
    print(f"written to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
