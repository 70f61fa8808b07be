"""Label normalisation: the form two labels are compared in.

Folding keeps nothing a curator would see (displays are never changed); it
only makes ``Glycémie à jeun (mmol/L)`` and ``glycemie a jeun mmol/l`` the same
tokens. Abbreviations, units and stop words come from the vocabulary files of
``mapping_rules/vocabulary`` so terminologists extend them without code.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator

from terminology.matching.rule_files import read_rule_file
from terminology.text import fold

DEFAULT_VOCABULARY = Path(__file__).resolve().parents[2] / "mapping_rules" / "vocabulary"
TOKEN = re.compile(r"[a-z0-9]+(?:\*[0-9]+)?(?:/[a-z0-9]+)*")
MICRO = str.maketrans({"µ": "u", "μ": "u"})


GLUED = re.compile(r"(?<=[a-zà-ÿ])(?=[A-ZÀ-Þ][a-zà-ÿ])")


def canonical(text: str) -> str:
    """Folded, with the micro sign (either code point) written ``u`` as in UCUM, and words
    glued by a lost space split again (``personnesPsychiatrique``, common in exports that
    concatenate a parent label and a child label).

    >>> canonical("µmol/L")
    'umol/l'
    >>> canonical("Atteinte aux personnesPsychiatrique")
    'atteinte aux personnes psychiatrique'
    """
    return fold(GLUED.sub(" ", text)).translate(MICRO)


ROMAN_NUMERALS = (
    "i", "ii", "iii", "iv", "v", "vi", "vii", "viii", "ix", "x",
    "xi", "xii", "xiii", "xiv", "xv", "xvi", "xvii", "xviii", "xix", "xx",
)  # fmt: skip
ROMAN = {numeral: value for value, numeral in enumerate(ROMAN_NUMERALS, start=1)}


class VocabularyFile(BaseModel):
    """One file of ``mapping_rules/vocabulary``: abbreviations, units or stop words."""

    model_config = ConfigDict(extra="forbid")

    kind: Literal["abbreviations", "units", "stop-words"]
    language: str | None = None
    description: str = ""
    entries: dict[str, Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]] = Field(
        default_factory=dict
    )
    words: list[str] = Field(default_factory=list)

    @field_validator("words", mode="before")
    @classmethod
    def _no_yaml_booleans(cls, value: object) -> object:
        if isinstance(value, list):
            for word in value:
                if isinstance(word, bool):
                    raise ValueError(
                        "YAML reads unquoted on/off/yes/no as true/false: write the word in quotes"
                    )
        return value


@dataclass(frozen=True)
class Normaliser:
    """Turns a label into comparison tokens.

    >>> n = Normaliser(abbreviations={"hb": "hemoglobine", "sg": "sang"}, units={"mcmol/l": "umol/l"},
    ...                stop_words=frozenset({"de", "du", "la"}))
    >>> n.tokens("Hb glyquée du SG (mcmol/L)")
    ('hemoglobine', 'glyquee', 'sang', 'umol/l')
    >>> n.tokens("Diabète de type II")
    ('diabete', 'type', '2')
    """

    abbreviations: Mapping[str, str] = field(default_factory=dict)
    units: Mapping[str, str] = field(default_factory=dict)
    stop_words: frozenset[str] = frozenset()

    def tokens(self, label: str) -> tuple[str, ...]:
        out: list[str] = []
        for raw in TOKEN.findall(canonical(label)):
            token = self.units.get(raw, raw)
            expansion = self.abbreviations.get(token)
            for word in expansion.split() if expansion else (token,):
                if word in self.stop_words:
                    continue
                out.append(_singular(str(ROMAN.get(word, word))))
        return tuple(out)

    def normalise(self, label: str) -> str:
        """The tokens joined by spaces, the string fuzzy scorers compare."""
        return " ".join(self.tokens(label))


def _singular(token: str) -> str:
    """Fold French and English plurals: ``urines`` → ``urine``, ``globulaux`` → ``globulal``
    (the same on both sides is all that matters), keeping ``-ss``/``-us``/``-is`` words."""
    if len(token) > 3 and not token.isdigit():
        if token.endswith("aux"):
            return token[:-3] + "al"
        if token.endswith(("s", "x")) and not token.endswith(("ss", "us", "is", "ux")):
            return token[:-1]
    return token


def load_vocabulary(files: Iterable[Path]) -> Normaliser:
    """Build a normaliser from vocabulary files (each validated, errors with file:line)."""
    abbreviations: dict[str, str] = {}
    units: dict[str, str] = {}
    stop_words: set[str] = set()
    for path in sorted(files):
        vocabulary = read_rule_file(path, VocabularyFile)
        folded = {canonical(key): canonical(value) for key, value in vocabulary.entries.items()}
        if vocabulary.kind == "abbreviations":
            abbreviations.update(folded)
        elif vocabulary.kind == "units":
            units.update(folded)
        else:
            stop_words.update(canonical(word) for word in vocabulary.words)
    return Normaliser(abbreviations=abbreviations, units=units, stop_words=frozenset(stop_words))


@lru_cache(maxsize=4)
def default_normaliser(folder: Path = DEFAULT_VOCABULARY) -> Normaliser:
    """The normaliser of the project's own vocabulary files."""
    return load_vocabulary(folder.glob("*.yaml"))
