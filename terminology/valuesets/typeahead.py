"""Type-ahead over an expansion (``filter``): the members' displays joined into one
searchable text, with a trigram index for long lists, kept per list and language by the
:class:`TypeaheadIndex` its owner (the operations cache) holds."""

from __future__ import annotations

import bisect
import threading
from array import array
from collections import OrderedDict
from collections.abc import Iterable
from functools import cached_property

from terminology.text import fold
from terminology.valuesets.lookup import (
    languages_asked,
    only_languages_asked,
    same_language,
)
from terminology.valuesets.members import Member, Names


def filtered_for_typing(
    members: list[Member], text: str, *, names: Names | None = None, index: TypeaheadIndex | None = None
) -> list[Member]:
    """The members whose display contains ``text`` (accents and case ignored, as in every
    search of Concordance): those whose display starts with it first, then those with a
    word starting with it, then the rest — what someone typing "gri" expects at the top —
    each group in the code system's order. ``names`` asking a language searches the displays
    in that language, the ones the expansion shows. ``index`` keeps the joined texts of the
    lists its owner keeps (a server's stored versions); without one they are built for this call.

    >>> griffe, grippe = Member("s", "1", "Maladie des griffes"), Member("s", "2", "Grippe aviaire")
    >>> [m.code for m in filtered_for_typing([Member("s", "3", "Agrippé"), griffe, grippe], "GRI")]
    ['2', '1', '3']
    >>> english = Names("en", names_of=lambda m: [{"language": "en", "value": "Avian flu"}])
    >>> [m.code for m in filtered_for_typing([griffe, grippe], "flu", names=english)]
    ['1', '2']
    """
    return (index or TypeaheadIndex()).search_text(members, names).ranked(fold(text).replace("\n", " "))


class SearchText:
    """The members' searchable displays joined into one string, so that finding a filter's
    text is ``str.find`` over it (C speed) rather than a Python test per member, which over
    CIM-11's 36,044 concepts would be most of a type-ahead request."""

    def __init__(self, members: list[Member], texts: list[str] | None = None) -> None:
        self.members = members
        self.texts = texts if texts is not None else [member.searchable for member in members]
        self.starts: list[int] = []
        position = 0
        for searchable in self.texts:
            self.starts.append(position)
            position += len(searchable) + 1
        self.text = "\n".join(self.texts)

    def ranked(self, wanted: str) -> list[Member]:
        """Members whose searchable display contains ``wanted`` (folded): those starting with
        it, then those with a word starting with it, then the rest, each in order."""
        first: list[Member] = []
        word: list[Member] = []
        inside: list[Member] = []
        members, texts, at_word = self.members, self.texts, " " + wanted
        for number, at in self._occurrences(wanted):
            if at == 1:  # right after the leading space: the display starts with it
                first.append(members[number])
            elif texts[number][at - 1] == " " or at_word in texts[number]:
                word.append(members[number])
            else:
                inside.append(members[number])
        return first + word + inside

    def _occurrences(self, wanted: str) -> Iterable[tuple[int, int]]:
        """(member number, where its text first has ``wanted``), in order: from the members
        holding the rarest of its three-letter pieces when it has any and the list is long,
        else from one pass of ``str.find`` over the joined text."""
        if len(wanted) >= TRIGRAM and len(self.members) >= TRIGRAMS_FROM:
            pieces = self.trigrams
            candidates = min(
                (pieces.get(wanted[i : i + TRIGRAM], NONE) for i in range(len(wanted) - 2)), key=len
            )
            texts = self.texts
            for number in candidates:
                at = texts[number].find(wanted)
                if at >= 0:
                    yield number, at
            return
        text, starts = self.text, self.starts
        last = len(starts) - 1
        at = text.find(wanted) if wanted else -1
        while at >= 0:
            number = bisect.bisect_right(starts, at) - 1
            yield number, at - starts[number]
            at = text.find(wanted, starts[number + 1]) if number < last else -1

    @cached_property
    def trigrams(self) -> dict[str, array[int]]:
        """Each three-letter piece of the searchable texts, with the members having it (one
        flat array each: no Python object per entry for the collector to walk). Built once per
        kept list, ~1 s for CIM-11's 36,044 concepts; a filter then reads the few hundred
        members of its rarest piece instead of scanning 1.6 million characters: the scan was
        most of a type-ahead request."""
        pieces: dict[str, array[int]] = {}
        for number, searchable in enumerate(self.texts):
            for piece in {searchable[i : i + TRIGRAM] for i in range(len(searchable) - 2)}:
                found = pieces.get(piece)
                if found is None:
                    found = pieces[piece] = array("I")
                found.append(number)
        return pieces


TRIGRAM = 3
TRIGRAMS_FROM = 2_000
"""Lists shorter than this are scanned: indexing them would cost more than it saves."""
NONE: array[int] = array("I")


LanguageKey = tuple[tuple[tuple[frozenset[str], frozenset[str]], ...], bool]
"""What a ``displayLanguage`` means for one list of members: per language asked, the code
systems' own languages and the designation languages it matches, and whether every other
language is refused."""

SEARCH_TEXTS_KEPT = 8
"""Joined texts an index keeps: a few lists, in a few languages."""


class TypeaheadIndex:
    """The joined search texts of the member lists a process keeps (a stored version's
    members, an is-a subtree), per list and per language *meant*, the least recently used
    out first. One belongs to whoever keeps those lists — the server's operations cache —
    so two owners never share or evict each other's entries, and nothing lives in a module.

    The entry is keyed by what the language means for these members, not by how it was
    spelt: ``fr-FR``, ``FR``, ``fr;q=1.0`` and ``fr, en;q=0.5`` on a French code system all
    name the same displays, so they share one entry, and a language the members do not have
    is the default. A client cycling spellings can then never evict another's warm entry."""

    def __init__(self, *, kept: int = SEARCH_TEXTS_KEPT) -> None:
        self.kept = kept
        self._texts: OrderedDict[tuple[int, LanguageKey | None], SearchText] = OrderedDict()
        self._spoken: OrderedDict[int, tuple[list[Member], frozenset[str], frozenset[str], bool]] = (
            OrderedDict()
        )
        self._lock = threading.Lock()

    def entries(self) -> list[SearchText]:
        """The texts kept, oldest first (what tests and benchmarks look at)."""
        with self._lock:
            return list(self._texts.values())

    def search_text(self, members: list[Member], names: Names | None = None) -> SearchText:
        """The joined text of ``members`` (their displays in the language ``names`` asks):
        the same list object asked again in the same language meant reuses it."""
        key = self.language_key(members, names.language, names) if names else None
        with self._lock:
            found = self._texts.get((id(members), key))
            if found is not None and found.members is members:
                self._texts.move_to_end((id(members), key))
                return found
        texts = None
        if names is not None and key is not None:
            texts = [" " + fold(names.of(member)[0] or "").replace("\n", " ") for member in members]
        built = SearchText(members, texts)
        with self._lock:
            self._texts[(id(members), key)] = built
            while len(self._texts) > self.kept:
                self._texts.popitem(last=False)
        return built

    def language_key(
        self, members: list[Member], asked: str | None, names: Names | None = None
    ) -> LanguageKey | None:
        """What ``asked`` (Accept-Language style) means for ``members``; None when it names
        the displays they already have (or no language they have).

        A tag is replaced by the languages it matches among the members' own and their
        designations' (so ``fr-FR`` and ``FR`` both become ``{fr}``); tags matching none are
        dropped, a repeat adds nothing, and after a tag matching every member's own language
        nothing later can be chosen.

        >>> members, key = [Member("urn:s", "1", "Grippe", language="fr")], TypeaheadIndex().language_key
        >>> key(members, "fr-FR") == key(members, "FR") == key(members, "fr;q=1.0")
        True
        >>> key(members, "fr-FR"), key(members, "de"), key(members, "de, *; q=0")
        (None, None, ((), True))
        """
        if not asked:
            return None
        own, spoken, all_named = self._languages_of(members, names)
        refused = only_languages_asked(asked)
        meant: list[tuple[frozenset[str], frozenset[str]]] = []
        for tag in languages_asked(asked):
            matched = (
                frozenset(language for language in own if same_language(language, tag)),
                frozenset(language for language in spoken if same_language(language, tag)),
            )
            if not any(matched) or matched in meant:
                continue
            meant.append(matched)
            if own and matched[0] == own and all_named:
                break
        if not refused and (not meant or (meant[0][0] == own and own and all_named)):
            return None
        return tuple(meant), refused

    def _languages_of(
        self, members: list[Member], names: Names | None
    ) -> tuple[frozenset[str], frozenset[str], bool]:
        """The members' own languages, their designations' languages and whether every
        member has a display, read once per kept list."""
        with self._lock:
            found = self._spoken.get(id(members))
            if found is not None and found[0] is members:
                return found[1], found[2], found[3]
        own = frozenset(m.language.lower() for m in members if m.language)
        spoken: set[str] = set()
        if names is not None:
            for member in members:
                spoken.update(str(d["language"]).lower() for d in names.names_of(member) if d.get("language"))
        result = own, frozenset(spoken), all(m.display for m in members)
        with self._lock:
            self._spoken[id(members)] = (members, *result)
            while len(self._spoken) > self.kept:
                self._spoken.popitem(last=False)
        return result
