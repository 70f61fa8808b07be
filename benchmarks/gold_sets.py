"""The gold sets matching is developed and measured on, all built from ``data/``.

Shared by ``quality.py`` (measurement) and ``train_default_model.py`` (the shipped
model). None is defined by a rule under test, and none comes from the WHO ICD-11 ↔
ICD-10 mapping tables, which are kept for independent evaluation.

* ``cm_who`` — ICD-10-CM 2026 → ICD-10 WHO 2019, English labels only: a CM code that WHO
  also has maps to itself (``equivalent``); one WHO lacks maps to its nearest WHO
  ancestor *by code structure* (``E11.65`` → ``E11.6``, else ``E11``): a "narrower
  source" task (``wider``), the development analogue of a classification upgrade.
* ``who_cm`` — ICD-10 WHO → ICD-10-CM, labels only, the same code being the gold.
* ``cim10fr_who`` — CIM-10 FR → ICD-10 WHO with the source's *French labels only*
  (its English labels left out), the same code being the gold: a cross-language task.
* ``samu`` — the ANS-validated SAMU-Hub nomenclature correspondence 1.9 ↔ 2.3.
* ``hl7`` — the FHIR R4 example ConceptMaps with a label on both sides.

Every gold set is split in two halves: ICD sources by their three-character category
(all codes of a category fall in one half), SAMU-Hub sources by their code, HL7 maps by
their id (a map falls whole in one half). The shipped model is trained on half 0 of every
set (each hierarchical ICD set also read flat, as local code lists come; HL7 and SAMU-Hub
also with their rule files and mapping memory, so rule and memory evidence is learnt
where it is not the gold), calibrated on a tenth of that half, and every figure is
measured on half 1. :func:`variants` lists them for the training script and ``quality.py``.
"""

from __future__ import annotations

import csv
import hashlib
import zlib
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from terminology.importers import importer_class
from terminology.matching.memory import MappingMemory, RememberedMapping
from terminology.models import CodeSystem, CodeSystemMetadata
from terminology.services.importing import import_code_system
from terminology.storage.store import SqlStore

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "data"
RULES = ROOT / "mapping_rules" / "rules"
Gold = dict[str, tuple[set[str], str]]
"""Source code → (validated target codes, equivalence kind)."""


@dataclass
class Task:
    """One source → target alignment with its gold pairs."""

    name: str
    source: CodeSystem
    target: CodeSystem
    gold: Gold
    rules: list[Path] = field(default_factory=list)
    memory: MappingMemory = field(default_factory=MappingMemory)
    """Validated pairs from elsewhere (never from this task's own gold)."""
    notes: list[str] = field(default_factory=list)


def half(code: str) -> int:
    """0 or 1: which half of an ICD set a source code falls in, by its category."""
    return zlib.crc32(code[:3].encode()) % 2


def calibration_share(code: str) -> bool:
    """A tenth of the training half, by category, kept to calibrate the model (another hash
    than :func:`half`'s: CRC-32 is linear, so two CRCs of related strings are correlated)."""
    return hashlib.sha256(code[:3].encode()).digest()[0] % 10 == 0


def split(gold: Gold, which: int) -> Gold:
    return {code: value for code, value in gold.items() if half(code) == which}


def code_half(code: str) -> int:
    """The half of a flat code list's source (SAMU-Hub): by the whole code."""
    return zlib.crc32(("code:" + code).encode()) % 2


TRAINING_SOURCES = 3_000
"""Sources of one variant's half 0 used in training at most (the first by a fixed hash), so
the large ICD sets do not drown the small ones: each task teaches about as much."""


SIMULATED_DECISIONS = 0.2
"""Share of a variant's training sources taken as decided when its training pool is built,
so the base model learns what a decided parent's or sibling's target says (the features of
:mod:`terminology.matching.decided`); those sources are left out of its training rows."""


def simulated_decisions(gold: Gold) -> dict[str, list[str]]:
    """A fixed-hash :data:`SIMULATED_DECISIONS` of ``gold``'s sources, as curators' choices."""
    return {
        code: sorted(targets)
        for code, (targets, _) in gold.items()
        if hashlib.sha256(("decided:" + code).encode()).digest()[0] < SIMULATED_DECISIONS * 256
    }


def training_share(gold: Gold) -> Gold:
    """At most :data:`TRAINING_SOURCES` sources of ``gold``, chosen by a fixed hash."""
    ordered = sorted(gold, key=lambda code: hashlib.sha256(("train:" + code).encode()).digest())
    return {code: gold[code] for code in sorted(ordered[:TRAINING_SOURCES])}


@dataclass
class Variant:
    """One way a gold set is matched: its task, read with or without hierarchies, with or
    without its rule files, and the sources it trains on and is scored on."""

    gold_set: str
    """The gold set it belongs to: leave-one-task-out leaves out all its variants."""
    name: str
    task: Task
    train: Gold
    score: Gold
    hierarchies: bool = True
    with_rules: bool = False


def _icd(store: SqlStore, name: str, task: Task) -> list[Variant]:
    train, score = split(task.gold, 0), split(task.gold, 1)
    return [
        Variant(name, name, task, train, score),
        Variant(name, f"{name} (flat)", task, train, score, hierarchies=False),
    ]


def variants(store: SqlStore, workdir: Path, *, only: set[str] | None = None) -> list[Variant]:
    """Every variant of every gold set (``only``: of those sets), in a fixed order."""
    found: list[Variant] = []
    wanted = only or {"cm_who", "who_cm", "cim10fr_who", "cim10fr_coarse", "samu", "hl7"}
    if "cm_who" in wanted:
        found += _icd(store, "cm_who", cm_who_task(store))
    if "who_cm" in wanted:
        found += _icd(store, "who_cm", who_cm_task(store))
    if "cim10fr_who" in wanted:
        found += _icd(store, "cim10fr_who", cim10fr_who_task(store))
    if "cim10fr_coarse" in wanted:
        found += _icd(store, "cim10fr_coarse", cim10fr_coarse_task(store, workdir))
    if "samu" in wanted:
        for task in samu_tasks(store):
            train = {c: v for c, v in task.gold.items() if code_half(c) == 0}
            score = {c: v for c, v in task.gold.items() if code_half(c) == 1}
            found += [
                Variant("samu", task.name, task, train, score),
                Variant("samu", f"{task.name} +rules", task, train, score, with_rules=True),
            ]
    if "hl7" in wanted:
        for task in hl7_tasks(store, workdir):
            map_id = task.name.split()[-1]
            scored = zlib.crc32(("map:" + map_id).encode()) % 2 == 1
            train, score = ({}, task.gold) if scored else (task.gold, {})
            found += [
                Variant("hl7", task.name, task, train, score),
                Variant("hl7", f"{task.name} +memory", task, train, score, with_rules=True),
            ]
    return found


def load_csv(
    store: SqlStore, path: Path, url: str, version: str, language: str, **options: str
) -> CodeSystem:
    """The stored version if a task loaded it already, else the CSV file imported."""
    existing = store.find_code_system(url, version)
    if existing:
        return existing
    metadata = CodeSystemMetadata(url=url, version=version, language=language, name=url.rsplit(":", 1)[-1])
    importer = importer_class("csv").with_options(options)
    return import_code_system(store, importer, path, overrides=metadata).code_system


def _icd10_who(store: SqlStore) -> CodeSystem:
    existing = store.find_code_system("http://hl7.org/fhir/sid/icd-10", "2019")
    if existing:
        return existing
    return import_code_system(
        store,
        importer_class("claml").with_options({}),
        DATA / "icd10_who_2019" / "icd10_who_2019.claml.xml",
        overrides=CodeSystemMetadata(url="http://hl7.org/fhir/sid/icd-10", version="2019", language="en"),
    ).code_system


def _icd10_cm(store: SqlStore) -> CodeSystem:
    return load_csv(
        store,
        DATA / "icd10cm_2026" / "icd10cm_2026_concepts.csv",
        "http://hl7.org/fhir/sid/icd-10-cm",
        "2026",
        "en",
        display_column="label_en",
        parent_column="parent_code",
    )


def _codes(store: SqlStore, system: CodeSystem) -> set[str]:
    return set(store.labels_frame(system).get_column("code").to_list())


def _classified(code: str) -> bool:
    """A category or subcategory (not a chapter or block)."""
    return not code[0].isdigit() and "-" not in code and len(code) >= 3


def cm_who_task(store: SqlStore) -> Task:
    who, cm = _icd10_who(store), _icd10_cm(store)
    who_codes = _codes(store, who)
    gold: Gold = {}
    for code in sorted(_codes(store, cm)):
        if not _classified(code):
            continue
        nearest = code
        while nearest and nearest not in who_codes:
            nearest = nearest[:-1].rstrip(".")
        if len(nearest) >= 3:
            gold[code] = ({nearest}, "equivalent" if nearest == code else "wider")
    return Task("cm_who", cm, who, gold, [RULES / "icd10_editions.yaml"])


def who_cm_task(store: SqlStore) -> Task:
    who, cm = _icd10_who(store), _icd10_cm(store)
    shared = _codes(store, who) & _codes(store, cm)
    gold: Gold = {code: ({code}, "equivalent") for code in sorted(shared) if _classified(code)}
    return Task("who_cm", who, cm, gold, [RULES / "icd10_editions.yaml"])


def cim10fr_who_task(store: SqlStore) -> Task:
    """CIM-10 FR with its French labels only (``label_en_who2019`` left out)."""
    who = _icd10_who(store)
    french = load_csv(
        store,
        DATA / "cim10_fr" / "cim10_fr_concepts.csv",
        "urn:concordance:codesystem:cim10-fr-only",
        "5.0.4",
        "fr",
        display_column="label_fr",
        parent_column="parent_code",
        ignore_columns="label_fr_composed,label_en_gnuhealth,gnuhealth_id,label_en_who2019",
    )
    shared = _codes(store, who) & set(
        store.labels_frame(french).filter(pl.col("label") != "").get_column("code").to_list()
    )
    gold: Gold = {code: ({code}, "equivalent") for code in sorted(shared) if _classified(code)}
    return Task("cim10fr_who", french, who, gold, [RULES / "icd10_editions.yaml"])


def cim10fr_coarse_task(store: SqlStore, workdir: Path) -> Task:
    """CIM-10 FR (French labels) → the same classification cut at its categories: the level
    choice in French. A subcategory's gold is its category (``wider``: the target has
    nothing as specific), a category's is itself; nothing but the bundled CIM-10 FR file is
    read, and no rule says which is which. It teaches what the CIM-11 → CIM-10 upgrade asks
    most — stop at the category when the look-alike child is too specific — in the language
    of that task, without touching its (forbidden) correspondence table."""
    french = cim10fr_who_task(store).source
    concepts = pl.read_csv(DATA / "cim10_fr" / "cim10_fr_concepts.csv", infer_schema=False)
    coarse = concepts.filter(pl.col("kind") != "subcategory")
    path = workdir / "cim10_fr_categories.csv"
    coarse.select("code", "parent_code", display="label_fr").write_csv(path)
    target = load_csv(
        store,
        path,
        "urn:concordance:codesystem:cim10-fr-categories",
        "5.0.4",
        "fr",
        parent_column="parent_code",
    )
    categories = set(coarse.filter(pl.col("kind") == "category").get_column("code").to_list())
    gold: Gold = {}
    for code, kind, parent, label in concepts.select("code", "kind", "parent_code", "label_fr").iter_rows():
        if not label:
            continue
        if kind == "category":
            gold[code] = ({code}, "equivalent")
        elif kind == "subcategory" and parent in categories:
            gold[code] = ({parent}, "wider")
    return Task("cim10fr_coarse", french, target, gold)


def samu_tasks(store: SqlStore) -> Iterator[Task]:
    folder = DATA / "samu_nomenclature"
    systems = {
        v: load_csv(store, folder / f"samu_nomenclature_v{v}.csv", "urn:samu", v, "fr")
        for v in ("1.9", "2.3")
    }
    gold: dict[tuple[str, str], Gold] = defaultdict(dict)
    with (folder / "samu_nomenclature_pairs.csv").open(encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            if row["target_code"]:
                pairs = gold[(row["source_version"], row["target_version"])]
                pairs.setdefault(row["source_code"], (set(), "equivalent"))[0].add(row["target_code"])
    for (source, target), pairs in gold.items():
        rules = [RULES / "nomenclature_upgrade.yaml", RULES / "samu_nomenclature.yaml"]
        yield Task(f"samu {source}→{target}", systems[source], systems[target], pairs, rules)


def _map_signature(rows: pl.DataFrame) -> frozenset[tuple[str, str]]:
    return frozenset((str(s), str(t)) for s, t in rows.select("source_display", "target_code").iter_rows())


def hl7_tasks(store: SqlStore, workdir: Path) -> Iterator[Task]:
    """One task per map. The memory offered to a map holds the *other* maps' validated
    pairs, except maps that duplicate it (a map whose (source label, target code) pairs
    overlap this map's by half or more): their answers would be this map's own."""
    pairs = pl.read_csv(DATA / "hl7_conceptmaps" / "fhir_r4_conceptmap_pairs.csv", infer_schema=False)
    labelled = pairs.filter(
        pl.col("source_display").is_not_null()
        & pl.col("target_display").is_not_null()
        & ~pl.col("equivalence").is_in(["unmatched", "disjoint"])  # not a mapping to a target
    )
    signatures = {
        str(map_id): _map_signature(rows)
        for (map_id,), rows in labelled.group_by(["conceptmap_id"], maintain_order=True)
    }
    for (map_id,), rows in labelled.group_by(["conceptmap_id"], maintain_order=True):
        target_url = rows.get_column("target_system").mode().sort().first()
        sides = {}
        for side, url in (("source", f"urn:hl7:{map_id}:source"), ("target", target_url)):
            path = workdir / f"{map_id}-{side}.csv"
            rows.select(code=f"{side}_code", display=f"{side}_display").unique("code").sort("code").write_csv(
                path
            )
            sides[side] = load_csv(store, path, str(url), str(map_id), "en")
        gold: Gold = {}
        for row in rows.iter_rows(named=True):
            gold.setdefault(row["source_code"], (set(), row["equivalence"]))[0].add(row["target_code"])
        own = signatures[str(map_id)]
        duplicates = sorted(
            other
            for other, signature in signatures.items()
            if other != str(map_id) and len(own & signature) * 2 >= min(len(own), len(signature))
        )
        others = labelled.filter(
            (pl.col("conceptmap_id") != map_id) & ~pl.col("conceptmap_id").is_in(duplicates)
        )
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
        notes = (
            [f"map {map_id}: memory leaves out duplicate maps {', '.join(duplicates)}"] if duplicates else []
        )
        yield Task(
            f"hl7 {map_id}",
            sides["source"],
            sides["target"],
            gold,
            [RULES / "hl7_code_tables.yaml"],
            memory,
            notes,
        )
