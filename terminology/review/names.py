"""People's names as the review rules compare them.

Four eyes ("the author may not accept their own decision"), assignment and the reviewer a
decision file names all ask whether two names are the same person. Compared as typed,
``RUI``, ``rui `` and ``rui`` followed by a zero-width space were three people, so one
person could vouch for their own work. A name is therefore checked once (no control or
invisible characters, bounded) and compared by its *key*: Unicode NFKC, case-folded,
spaces collapsed.
"""

from __future__ import annotations

import unicodedata

from terminology.errors import ConcordanceError


class InvalidNameError(ConcordanceError):
    """A name that cannot stand for a person (refused, never altered)."""

    code = "invalid-name"
    http_status = 422
    fhir_issue = "invalid"


LONGEST_NAME = 128
"""The longest user name or author kept (as the API's ``assignee`` and user names)."""
INVISIBLE = frozenset({"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"})
"""Unicode categories a name may not hold: controls, format characters (zero-width space,
joiners, bidirectional overrides), surrogates, private use, unassigned, line and paragraph
separators."""


def person_key(name: str) -> str:
    """What two spellings of one person's name share.

    >>> person_key("RUI") == person_key(" rui ") == person_key("ｒｕｉ") == "rui"
    True
    >>> person_key("Ana  Lúcia") == person_key("ana lúcia")
    True
    """
    return " ".join(unicodedata.normalize("NFKC", name).casefold().split())


def same_person(first: str | None, second: str | None) -> bool:
    """Whether two names (as given, or None) name the same person.

    >>> same_person("rui", "RUI "), same_person("rui", "ana"), same_person(None, "rui")
    (True, False, False)
    """
    return first is not None and second is not None and person_key(first) == person_key(second)


def check_name(name: str, *, what: str = "name") -> str:
    """``name`` stripped, or :class:`InvalidNameError` saying why it cannot name a person:
    empty, longer than :data:`LONGEST_NAME`, or holding a control or invisible character.

    >>> check_name("  ana ")
    'ana'
    >>> check_name("rui\\u200b", what="author")
    Traceback (most recent call last):
    terminology.review.names.InvalidNameError: the author holds an invisible or control character (U+200B)
    """
    stripped = name.strip()
    if not stripped:
        raise InvalidNameError(f"the {what} is empty")
    if len(stripped) > LONGEST_NAME:
        raise InvalidNameError(
            f"the {what} has {len(stripped):,} characters; at most {LONGEST_NAME} are kept"
        )
    for character in stripped:
        if unicodedata.category(character) in INVISIBLE:
            raise InvalidNameError(
                f"the {what} holds an invisible or control character (U+{ord(character):04X})"
            )
    return stripped
