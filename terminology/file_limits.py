"""The bounds every file reader holds, in one place (the README's limits table lists them).

A file a curator or a publisher hands over may be wrong in ways that cost the server: a
million-row table, a 100 MB field, a NUL or an ESC in a code. Each reader refuses them at
``FILE:LINE`` with the field named, before anything is stored.
"""

from __future__ import annotations

import re
from functools import lru_cache

MAX_ROWS = 1_000_000
"""The most data rows a decision file or an SSSOM mapping set may hold (exactly this many
are read; one more is refused)."""
LONGEST_FIELD = 131_072
"""The longest field of a delimited file, in characters (Python's ``csv`` default limit)."""
LONGEST_CODE = 256
"""The longest code read from any file (as the review API's)."""


def control_character(text: str, *, allow: str = "") -> str | None:
    """The first control character of ``text`` (``U+001B``), None when it holds none;
    ``allow`` lists those tolerated (a comment's tab or newline).

    >>> control_character("A00"), control_character("A\\x1b[31m"), control_character("a\\tb", allow="\\t")
    (None, 'U+001B', None)
    """
    found = _controls(allow).search(text)
    return None if found is None else f"U+{ord(found.group()):04X}"


@lru_cache(maxsize=8)
def _controls(allow: str) -> re.Pattern[str]:
    """A pattern of the control characters not in ``allow`` (one regex search per field:
    a million-row file is checked in C, not character by character)."""
    banned = [chr(c) for c in (*range(0x20), 0x7F) if chr(c) not in allow]
    return re.compile("[" + "".join(re.escape(c) for c in banned) + "]")
