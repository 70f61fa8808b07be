"""Which version is meant: the one rule every lookup of a code system, value set or
ConceptMap follows when a request names a canonical url with or without a version.

- A version named is that version, exactly (``2.3`` is not ``2.3.0``).
- No version named: the **latest** one, as FHIR servers read it — active versions before
  any other status (a retired map does not answer while an active one exists), then the
  highest version, comparing the numeric parts as numbers (``2.10`` after ``2.9``, ``2024``
  after ``2019``), whatever the order they were imported or published in.
- Equal versions (the same url|version sent with a request and stored): the first given,
  so callers list what the request sent before what is stored, newest first.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from typing import Protocol, TypeVar


class Versioned(Protocol):
    @property
    def url(self) -> str: ...

    @property
    def version(self) -> str | None: ...


V = TypeVar("V")
R = TypeVar("R", bound=Versioned)


def version_key(version: str | None) -> tuple[tuple[int, int | str], ...]:
    """A sort key comparing the numeric parts of a version as numbers.

    >>> sorted(["2.10", "2.9", "10", "2.9.1", "2.9-beta"], key=version_key)
    ['2.9', '2.9.1', '2.9-beta', '2.10', '10']
    """
    return tuple(
        (0, int(part)) if part.isdigit() else (1, part) for part in re.split(r"[.\-_]", version or "")
    )


def is_wildcard(version: str | None) -> bool:
    """A version pattern with ``x`` (or ``*``) parts, as value sets pin "any 1.x".

    >>> is_wildcard("1.x"), is_wildcard("1.x.x"), is_wildcard("1.0.0"), is_wildcard(None)
    (True, True, False, False)
    """
    return version is not None and any(part in ("x", "X", "*") for part in version.split("."))


def matches_wildcard(pattern: str, version: str | None) -> bool:
    """Whether ``version`` fits ``pattern`` (``1.x`` fits ``1.2`` and ``1.2.0``).

    >>> matches_wildcard("1.x.x", "1.2.0"), matches_wildcard("1.x", "1.2.0"), matches_wildcard("1.x", "2.0")
    (True, True, False)
    """
    if version is None:
        return False
    wanted, have = pattern.split("."), version.split(".")
    if len(have) < len(wanted) and wanted[-1] not in ("x", "X", "*"):
        return False
    return all(w in ("x", "X", "*") or (i < len(have) and have[i] == w) for i, w in enumerate(wanted))


def pick_version(
    candidates: Sequence[V],
    version: str | None = None,
    *,
    version_of: Callable[[V], str | None],
    is_active: Callable[[V], bool] = lambda _: True,
) -> V | None:
    """The candidate meant by ``version`` (None: the latest), among versions of one url.

    >>> maps = [("2.0", "retired"), ("1.9", "active"), ("1.10", "active")]
    >>> pick_version(maps, version_of=lambda m: m[0], is_active=lambda m: m[1] == "active")
    ('1.10', 'active')
    >>> pick_version(maps, "2.0", version_of=lambda m: m[0])
    ('2.0', 'retired')
    >>> pick_version(maps, "3", version_of=lambda m: m[0]) is None
    True
    """
    if version is not None and is_wildcard(version):
        fitting = [c for c in candidates if matches_wildcard(version, version_of(c))]
        return max(fitting, key=lambda c: version_key(version_of(c))) if fitting else None
    if version is not None:
        return next((candidate for candidate in candidates if version_of(candidate) == version), None)
    if not candidates:
        return None
    pool = [candidate for candidate in candidates if is_active(candidate)] or list(candidates)
    return max(pool, key=lambda candidate: version_key(version_of(candidate)))  # max keeps the first of ties


def latest_per_url(versions: Iterable[R], *, is_active: Callable[[R], bool] = lambda _: True) -> list[R]:
    """For each canonical url, the version that answers when none is named (first-seen url
    order), by :func:`pick_version`."""
    by_url: dict[str, list[R]] = {}
    for item in versions:
        by_url.setdefault(item.url, []).append(item)
    chosen = [
        pick_version(items, version_of=lambda item: item.version, is_active=is_active)
        for items in by_url.values()
    ]
    return [item for item in chosen if item is not None]
