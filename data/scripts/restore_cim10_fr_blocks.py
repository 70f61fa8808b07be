"""Restore the blocks of WHO ICD-10 2019 that the GNU Health CIM-10 file names but lacks.

``cim10_fr_concepts.csv`` places GNU Health's French labels in the WHO 2019 hierarchy, yet
15 blocks of that hierarchy have no row (14 named as a parent, and ``V01-X59`` above two
of them): 4,227 concepts were cut from their chapter on import. Each missing block is
added as WHO 2019 defines it — code, kind ``block``, its WHO parent, its chapter, the
English title of ``icd10_who_2019.claml.xml`` — just before the first row under it.

French titles: three come from GNU Health's own translation of the older-edition block
with the same English title (``A90-A99``, ``J10-J18``, ``O95-O99`` in the same file); the
other twelve were translated by the Concordance maintainers from the English title and
are listed as such in ``data/README.md``. Rows already present are left as they are, so
running it twice changes nothing.

Usage: python data/scripts/restore_cim10_fr_blocks.py [data/cim10_fr/cim10_fr_concepts.csv]
"""

from __future__ import annotations

import csv
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

DATA = Path(__file__).resolve().parent.parent
CLAML = DATA / "icd10_who_2019" / "icd10_who_2019.claml.xml"
CSV = DATA / "cim10_fr" / "cim10_fr_concepts.csv"

FROM_GNUHEALTH = {"A92-A99": "A90-A99", "J09-J18": "J10-J18", "O94-O99": "O95-O99"}
"""Missing block → the older-edition block of the same file whose French title it takes."""

TRANSLATED = {
    "C00-C97": "Tumeurs malignes",
    "C00-C75": "Tumeurs malignes, primitives ou présumées primitives, de sièges précisés, "
    "à l'exception des tissus lymphoïde, hématopoïétique et apparentés",
    "M00-M25": "Arthropathies",
    "M40-M54": "Dorsopathies",
    "M60-M79": "Affections des tissus mous",
    "M80-M94": "Ostéopathies et chondropathies",
    "T20-T32": "Brûlures et corrosions",
    "U82-U85": "Résistance aux médicaments antimicrobiens et antinéoplasiques",
    "V01-X59": "Accidents",
    "V01-V99": "Accidents de transport",
    "W00-X59": "Autres causes externes de lésions traumatiques accidentelles",
    "Y40-Y84": "Complications de soins médicaux et chirurgicaux",
}
"""French titles translated by the project from the WHO 2019 English title (not WHO's text)."""


def who_blocks() -> dict[str, tuple[str, str]]:
    """Every WHO 2019 block: code → (parent code, English title)."""
    found: dict[str, tuple[str, str]] = {}
    for element in ET.parse(CLAML).getroot().iter("Class"):
        if element.get("kind") != "block":
            continue
        parent = element.find("SuperClass")
        label = element.find("Rubric[@kind='preferred']/Label")
        if parent is not None and label is not None:
            found[str(element.get("code"))] = (str(parent.get("code")), "".join(label.itertext()).strip())
    return found


def missing_blocks(rows: list[dict[str, str]], blocks: dict[str, tuple[str, str]]) -> list[str]:
    """Parents named but not defined, and the WHO blocks above them, top first."""
    codes = {row["code"] for row in rows}
    wanted: list[str] = []
    for row in rows:
        parent = row["parent_code"]
        chain: list[str] = []
        while parent and parent not in codes and parent not in wanted and parent not in chain:
            if parent not in blocks:
                raise SystemExit(f"{row['code']} names {parent!r}, which is not a WHO 2019 block")
            chain.append(parent)
            parent = blocks[parent][0]
        wanted.extend(reversed(chain))
    return wanted


def french_title(code: str, rows: list[dict[str, str]]) -> str:
    if code in FROM_GNUHEALTH:
        older = FROM_GNUHEALTH[code]
        return next(row["label_fr"] for row in rows if row["code"] == older)
    return TRANSLATED[code]


def restore(path: Path) -> list[str]:
    with path.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    blocks = who_blocks()
    added = missing_blocks(rows, blocks)
    chapter_of = {row["code"]: row["chapter"] for row in rows}
    new_rows = []
    for code in added:  # top first, so a block's parent already has its chapter
        parent, english = blocks[code]
        chapter_of[code] = chapter_of.get(parent, parent)
        title = french_title(code, rows)
        new_rows.append(
            {
                "code": code,
                "kind": "block",
                "parent_code": parent,
                "chapter": chapter_of[code],
                "label_fr": title,
                "label_fr_composed": title,
                "label_en_who2019": english,
                "label_en_gnuhealth": "",
                "in_who_2019": "1",
                "gnuhealth_id": "",
            }
        )
    for new in reversed(new_rows):  # bottom first: each goes just before its first child
        first_child = next(i for i, row in enumerate(rows) if row["parent_code"] == new["code"])
        rows.insert(first_child, new)
    with path.open("w", encoding="utf-8", newline="") as out:
        writer = csv.DictWriter(out, fieldnames=list(rows[0]), lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    return added


if __name__ == "__main__":
    target = Path(sys.argv[1]) if len(sys.argv) > 1 else CSV
    restored = restore(target)
    print(f"{len(restored)} blocks restored: {', '.join(restored) or 'none missing'}")
