"""Text folding shared by search and, later, matching.

French labels must be found whatever their accents or case: a curator typing
``hemoglobine`` expects ``Hémoglobine``.
"""

from __future__ import annotations

import unicodedata
from functools import lru_cache


@lru_cache(maxsize=4096)
def _fold_char(char: str) -> str:
    decomposed = unicodedata.normalize("NFKD", char)
    stripped = "".join(c for c in decomposed if not unicodedata.combining(c))
    return {"œ": "oe", "æ": "ae", "ß": "ss", "ø": "o", "đ": "d", "ł": "l"}.get(stripped, stripped)


def fold(text: str) -> str:
    """Lower-case and strip accents, keeping every other character.

    >>> fold("Hémoglobine glyquée (HbA1c) — Œdème")
    'hemoglobine glyquee (hba1c) — oedeme'
    """
    lowered = text.casefold()
    if lowered.isascii():
        return lowered
    return "".join(c if c.isascii() else _fold_char(c) for c in lowered)


def _table() -> dict[str, str]:
    """Every Latin letter outside ASCII (Latin-1, Extended-A and -B, and ẞ) that folding
    changes, with what it folds to: the one table the SQL folding is generated from."""
    letters = [chr(point) for point in range(0x00C0, 0x0250)] + ["ẞ"]
    return {char: fold(char) for char in letters if char.isalpha() and fold(char) != char}


FOLDED: dict[str, str] = _table()
"""Non-ASCII letters and their folded form (``"Œ": "oe"``, ``"é": "e"``, ``"ß": "ss"``)."""
