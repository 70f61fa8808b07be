"""A bilingual word lexicon learnt from concepts labelled in two languages, and the
word-by-word translation matching uses when the two sides share no language.

French local labels must often be matched to English-only targets (LOINC, ICD-10,
SNOMED CT displays). Character n-grams are useless across languages, but the store
already holds tens of thousands of concepts with a French *and* an English label
(CIM-11, CIM-10): a word that keeps appearing in the French label when another keeps
appearing in the English one is likely its translation (Dice coefficient over aligned
label pairs, the classic first step of statistical word alignment). Translating a
label word by word is crude, but it turns a cross-language comparison into a lexical
one the index and the ranker already know how to score.
"""

from __future__ import annotations

import csv
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

DEFAULT_LEXICONS = Path(__file__).resolve().parents[2] / "mapping_rules" / "lexicons"
MIN_PAIRS = 3
"""A word pair must co-occur in at least this many aligned labels."""
MIN_DICE = 0.3
"""...and account for this share of both words' occurrences (Dice coefficient)."""


@dataclass(frozen=True)
class Lexicon:
    """Word translations from one language to another (normalised tokens).

    >>> lexicon = Lexicon("fr", "en", {"fievre": "fever", "typhoide": "typhoid"})
    >>> lexicon.translate("fievre typhoide aigue")
    'fever typhoid aigue'
    """

    source: str
    target: str
    words: Mapping[str, str]

    def translate(self, norm: str) -> str:
        """A normalised label, word by word; unknown words stay as they are (many medical
        words are spelt alike in both languages)."""
        return " ".join(self.words.get(word, word) for word in norm.split())

    def write(self, path: Path, scores: Mapping[str, tuple[float, int]] | None = None) -> None:
        with path.open("w", encoding="utf-8", newline="") as handle:
            writer = csv.writer(handle, delimiter="\t", lineterminator="\n")
            writer.writerow([self.source, self.target, "dice", "pairs"])
            for word in sorted(self.words):
                dice, pairs = (scores or {}).get(word, (1.0, 0))
                writer.writerow([word, self.words[word], f"{dice:.3f}", pairs])

    @classmethod
    def read(cls, path: Path) -> Lexicon:
        with path.open(encoding="utf-8", newline="") as handle:
            reader = csv.reader(handle, delimiter="\t")
            source, target, *_ = next(reader)
            return cls(source, target, {row[0]: row[1] for row in reader if len(row) >= 2 and row[0]})


def learn_lexicon(
    pairs: Iterable[tuple[str, str]],
    *,
    source: str,
    target: str,
    min_pairs: int = MIN_PAIRS,
    min_dice: float = MIN_DICE,
) -> tuple[Lexicon, dict[str, tuple[float, int]]]:
    """Each source word's best target word over aligned (source norm, target norm) pairs,
    kept when it co-occurs often enough and strongly enough; also the (Dice, pairs) of each.

    >>> pairs = [("fievre typhoide", "typhoid fever"), ("fievre jaune", "yellow fever"),
    ...          ("fievre q", "q fever"), ("typhoide", "typhoid"), ("jaune", "yellow")]
    >>> lexicon, _ = learn_lexicon(pairs, source="fr", target="en", min_pairs=2)
    >>> sorted(lexicon.words.items())
    [('fievre', 'fever'), ('jaune', 'yellow'), ('typhoide', 'typhoid')]
    """
    source_counts: Counter[str] = Counter()
    target_counts: Counter[str] = Counter()
    together: Counter[tuple[str, str]] = Counter()
    for left, right in pairs:
        left_words, right_words = set(left.split()), set(right.split())
        source_counts.update(left_words)
        target_counts.update(right_words)
        together.update((a, b) for a in left_words for b in right_words)
    best: dict[str, tuple[float, int, str]] = {}
    for (word, translation), count in together.items():
        if count < min_pairs:
            continue
        dice = 2 * count / (source_counts[word] + target_counts[translation])
        if dice >= min_dice and (dice, count, translation) > best.get(word, (0.0, 0, "")):
            best[word] = (dice, count, translation)
    return (
        Lexicon(source, target, {word: translation for word, (_, _, translation) in best.items()}),
        {word: (dice, count) for word, (dice, count, _) in best.items()},
    )


@lru_cache(maxsize=8)
def shipped_lexicon(source: str, target: str, folder: Path = DEFAULT_LEXICONS) -> Lexicon | None:
    """The lexicon ``mapping_rules/lexicons/SOURCE-TARGET.tsv`` if the project ships one."""
    path = folder / f"{source}-{target}.tsv"
    return Lexicon.read(path) if path.exists() else None
