"""Give ICD-10-CM single-category blocks a code of their own.

The tabular list names 39 blocks after their only category (block ``B10``
holds category ``B10``), so the codes collide. Such a block becomes
``B10-B10``, the range form every other block uses, and its category points
to it. Nothing else changes.

Usage: python data/scripts/icd10cm_block_ranges.py SOURCE.csv data/icd10cm_2026/icd10cm_2026_concepts.csv
"""

from __future__ import annotations

import csv
import sys
from pathlib import Path


def rewrite(source: Path, target: Path) -> int:
    with source.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    kinds: dict[str, set[str]] = {}
    for row in rows:
        kinds.setdefault(row["code"], set()).add(row["kind"])
    colliding = {code for code, seen in kinds.items() if {"block", "category"} <= seen}
    for row in rows:
        if row["kind"] == "block" and row["code"] in colliding:
            row["code"] = f"{row['code']}-{row['code']}"
        elif row["kind"] == "category" and row["parent_code"] in colliding:
            row["parent_code"] = f"{row['parent_code']}-{row['parent_code']}"
    with target.open("w", encoding="utf-8", newline="") as out:
        writer = csv.DictWriter(out, fieldnames=list(rows[0]), lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    return len(colliding)


if __name__ == "__main__":
    print(f"{rewrite(Path(sys.argv[1]), Path(sys.argv[2]))} blocks renamed")
