"""Train the ranking model shipped in the package (``terminology/matching/default_model.json``).

Usage: ``python benchmarks/train_default_model.py [--check] [--out FILE]``

Trained on half 0 of every gold set of ``gold_sets.py`` at once (``gold_sets.variants``):
ICD-10-CM → ICD-10 WHO (narrower and same-code sources), ICD-10 WHO → ICD-10-CM, CIM-10 FR
(French labels) → ICD-10 WHO (English), CIM-10 FR → CIM-10 FR cut at its categories (the
level choice, in French), each also read as two flat lists; the SAMU-Hub
nomenclature upgrade both ways, also with its rule files; the HL7 example ConceptMaps of
half 0 of the maps, also with the mapping memory of the others. At most 3,000 sources a
variant, calibrated on a tenth of them kept out of training. Half 1 of every set is never
seen: ``quality.py`` measures on it, and measures each set again with a model trained
without that set at all (leave-one-task-out). No WHO ICD-11 ↔ ICD-10 table, nor the CMS
GEMs, nor anything derived from them, is read.
Deterministic (one thread, fixed seed, rows sorted): ``--check`` retrains and fails
if the result differs from the shipped file by a byte.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.gold_sets import variants
from benchmarks.training import fit_on, training_rows, variant_pool
from terminology.matching.ranker import DEFAULT_MODEL
from terminology.settings import Settings
from terminology.storage import migrate
from terminology.storage.database import SqlDatabase
from terminology.storage.engine import make_engine

DATA = [
    "data/icd10cm_2026/icd10cm_2026_concepts.csv",
    "data/icd10_who_2019/icd10_who_2019.claml.xml",
    "data/cim10_fr/cim10_fr_concepts.csv",
    "data/samu_nomenclature/",
    "data/hl7_conceptmaps/fhir_r4_conceptmap_pairs.csv",
]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_MODEL)
    parser.add_argument("--check", action="store_true", help="fail if the retrained model differs")
    args = parser.parse_args()
    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        engine = make_engine(Settings(database_url=f"sqlite:///{tmp}/train.db"))
        migrate.upgrade(engine)
        store = SqlDatabase(engine)
        pools = [variant_pool(store, variant, scoring=False) for variant in variants(store, Path(tmp))]
        engine.dispose()
    rows = training_rows(pools)
    provenance = {
        "script": "benchmarks/train_default_model.py",
        "gold_sets": "benchmarks/gold_sets.py: half 0 of every variant (cm_who, who_cm, cim10fr_who, "
        "cim10fr_coarse, each also flat; samu both ways, also with rules; hl7 maps of half 0, also with "
        "memory)",
        "data": DATA,
    }
    model = fit_on(rows, name="default", provenance=provenance)
    text = model.to_json() + "\n"
    print(
        f"trained on {model.provenance['rows']} rows of {len(model.provenance['tasks'])} task variants in "
        f"{time.perf_counter() - started:.0f} s; calibration a={model.calibration[0]:.3f} "
        f"b={model.calibration[1]:.3f}; equivalences {model.equivalence_classes}"
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
