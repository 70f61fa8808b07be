r"""Where a source concept sits in its hierarchy, as a work queue filters on it.

A queue of 36,000 CIM-11 rows is worked chapter by chapter and subtree by subtree, so each
row keeps its chapter (the root reached through first parents) and the set of all its
ancestors (every parent path, since SNOMED CT and CIM-11 have several). Both are computed
here once per match, from the parent links alone, with no storage.

>>> parents = {"A01": ["A"], "A": ["I"], "B": ["I", "II"], "I": [], "II": []}
>>> placed = placements(parents, ["A01", "B", "Z"])
>>> placed["A01"].chapter, sorted(placed["A01"].ancestors)
('I', ['A', 'I'])
>>> placed["B"].chapter, sorted(placed["B"].ancestors)
('I', ['I', 'II'])
>>> placed["Z"].chapter is None
True
>>> encode_ancestors(placed["A01"].ancestors)
'\x1fA\x1fI\x1f'
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

QueueSort = Literal[
    "source_code",
    "-source_code",
    "score",
    "-score",
    "updated_at",
    "-updated_at",
    "frequency",
    "-frequency",
    "useful",
]
"""The orders a work queue offers (``-``: descending). ``useful``: the most useful to decide
next first — rows nobody decided yet, those whose best two candidates the model can least
tell apart first (:func:`decision_margin`)."""

SEPARATOR = "\x1f"
"""Between ancestors in the stored set: a control character no code contains."""


@dataclass(frozen=True, slots=True)
class Placement:
    chapter: str | None
    """The root above the concept through first parents; None for a root itself."""
    ancestors: frozenset[str]


def placements(parents: Mapping[str, Sequence[str]], codes: Iterable[str]) -> dict[str, Placement]:
    """Each code's chapter and ancestors; a cycle in a damaged hierarchy stops the walk."""
    known: dict[str, frozenset[str]] = {}
    return {code: Placement(chapter_of(parents, code), ancestors_of(parents, code, known)) for code in codes}


def ancestors_of(
    parents: Mapping[str, Sequence[str]], code: str, known: dict[str, frozenset[str]] | None = None
) -> frozenset[str]:
    """Every ancestor of ``code`` (all parent paths), memoised in ``known`` across calls.

    Walked with an explicit stack rather than recursion: CIM-11 and SNOMED CT are deep
    enough, and a damaged file cyclic enough, to exhaust Python's recursion limit.
    """
    known = {} if known is None else known
    stack: list[tuple[str, bool]] = [(code, False)]
    visiting: set[str] = set()
    while stack:
        current, expanded = stack.pop()
        if current in known:
            continue
        if expanded:
            found: set[str] = set()
            for parent in parents.get(current, ()):
                found.add(parent)
                found |= known.get(parent, frozenset())
            known[current] = frozenset(found)
            visiting.discard(current)
            continue
        visiting.add(current)
        stack.append((current, True))
        stack.extend((parent, False) for parent in parents.get(current, ()) if parent not in visiting)
    return known[code]


def chapter_of(parents: Mapping[str, Sequence[str]], code: str) -> str | None:
    """The root reached by following first parents (None when ``code`` is a root)."""
    seen = {code}
    current = code
    while parents.get(current):
        current = parents[current][0]
        if current in seen:
            break
        seen.add(current)
    return None if current == code else current


def path_to_root(parents: Mapping[str, Sequence[str]], code: str) -> list[str]:
    """The first-parent path from the root down to ``code``'s parent.

    >>> path_to_root({"A01": ["A"], "A": ["I"]}, "A01")
    ['I', 'A']
    """
    path: list[str] = []
    current = code
    while parents.get(current) and len(path) < 64:
        current = parents[current][0]
        if current in path or current == code:
            break
        path.append(current)
    return path[::-1]


def encode_ancestors(ancestors: Iterable[str]) -> str:
    """The stored form: sorted, each between separators, so ``LIKE '%␟CODE␟%'`` finds a subtree."""
    return SEPARATOR + SEPARATOR.join(sorted(ancestors)) + SEPARATOR if ancestors else SEPARATOR


PLAUSIBLE = 0.1
"""A best candidate below this probability leaves the model nothing to choose between."""


def decision_margin(scores: Iterable[float]) -> float | None:
    """How clearly the model prefers a row's best candidate — its probability minus the
    second best's (the best's own when it has no rival) — as the key of the queue's "most
    useful to decide next" order, smallest first: a decision there settles what the model
    could not, and teaches the project model the most (margin sampling;
    :func:`terminology.matching.learning.informative_order` orders the same way). A row
    whose best candidate is implausible (below :data:`PLAUSIBLE`) gets 1 more, so it comes
    after every row with a plausible one: between near-zero candidates the gap says
    nothing, and its answer is rarely in the pool to learn from. None without candidates.

    >>> decision_margin([0.5, 0.45, 0.1]), decision_margin([0.3]), decision_margin([0.02, 0.01])
    (0.05, 0.3, 1.01)
    >>> decision_margin([]) is None
    True
    """
    best = sorted(scores, reverse=True)[:2]
    if not best:
        return None
    gap = best[0] - (best[1] if len(best) > 1 else 0.0)
    return round(gap + (0.0 if best[0] >= PLAUSIBLE else 1.0), 6)
