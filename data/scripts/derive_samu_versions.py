"""Derive the two SAMU-Hub nomenclature versions (1.9 and 2.3) from the curated pairs.

The correspondence table is the only public source of both versions' codes and
labels. Each version's code list is the union of the codes it shows on either
side; when a code appears with several labels, the most frequent (then the
first seen) is its display and the others become synonyms.

Pairs with an empty code (explicit "no map" decisions) contribute no code.

Usage: python data/scripts/derive_samu_versions.py  (rewrites data/samu_nomenclature/*.csv)
"""

from __future__ import annotations

import csv
from collections import Counter, defaultdict
from pathlib import Path

FOLDER = Path(__file__).resolve().parent.parent / "samu_nomenclature"


def derive() -> None:
    labels: dict[str, dict[str, Counter[str]]] = defaultdict(lambda: defaultdict(Counter))
    fields: dict[tuple[str, str], str] = {}
    with (FOLDER / "samu_nomenclature_pairs.csv").open(encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            for side in ("source", "target"):
                version, code, label = (
                    row[f"{side}_version"],
                    row[f"{side}_code"].strip(),
                    row[f"{side}_label"].strip(),
                )
                if not code:  # a pair without a target is a "no map" decision, not a code
                    continue
                labels[version][code][label] += 1
                fields.setdefault((version, code), row["field"])
    for version, codes in labels.items():
        with (FOLDER / f"samu_nomenclature_v{version}.csv").open("w", encoding="utf-8", newline="") as out:
            writer = csv.writer(out, lineterminator="\n")
            writer.writerow(["code", "display", "synonyms", "field"])
            for code in sorted(codes):
                ranked = [label for label, _ in codes[code].most_common()]
                writer.writerow([code, ranked[0], "|".join(ranked[1:]), fields[(version, code)]])


if __name__ == "__main__":
    derive()
