"""Learn the French → English word lexicon matching uses across languages.

Usage: ``python data/scripts/learn_lexicon.py`` (writes ``mapping_rules/lexicons/fr-en.tsv``)

Source: the French and English labels of the 36,044 CIM-11 MMS entities in
``data/cim11_fr/cim11_mms_concepts.csv`` (PyPI ``cim-11-certic==0.6.5``, CeCILL-C; content
© WHO), both normalised as matching normalises labels. Nothing else: not the CIM-10
labels (``benchmarks/quality.py`` scores CIM-10 FR → ICD-10 with it, so learning from
CIM-10's own label pairs would be learning the answers), and no mapping table.
"""

from __future__ import annotations

import csv
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from terminology.matching.lexicon import DEFAULT_LEXICONS, learn_lexicon  # noqa: E402
from terminology.matching.normalise import default_normaliser  # noqa: E402


def main() -> int:
    normaliser = default_normaliser()
    pairs = []
    with (ROOT / "data" / "cim11_fr" / "cim11_mms_concepts.csv").open(encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            french, english = row["label_fr"].strip(), row["label_en"].strip()
            if french and english and french != english:
                pairs.append((normaliser.normalise(french), normaliser.normalise(english)))
    lexicon, scores = learn_lexicon(pairs, source="fr", target="en")
    out = DEFAULT_LEXICONS / "fr-en.tsv"
    lexicon.write(out, scores)
    print(f"{len(lexicon.words):,} French words from {len(pairs):,} label pairs written to {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
