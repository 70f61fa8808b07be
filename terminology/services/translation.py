"""Translation through ConceptMaps: which maps answer a question, their per-process cache,
and the answers — what FHIR ``$translate`` and the Python API's vectorised ``translate``
both call, so they cannot disagree.

Maps are read from a cache of immutable versions, refreshed when the catalogue changes
(checked at most once a second), so a warm lookup does not touch the database.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from terminology.backends import Backends
from terminology.publication.conceptmap import as_r4
from terminology.publication.translate import (
    MapIndex,
    Match,
    Question,
    has_result,
    newest,
    no_match_message,
    translate,
)
from terminology.records import ConceptMapNotFoundError, StoredMap
from terminology.versions import pick_version

__all__ = [
    "MapCache",
    "MapChoice",
    "Translation",
    "choose_maps",
    "sent_maps",
    "translate_question",
    "translate_request",
    "translator",
]


class MapCache:
    """Indexed ConceptMap versions of one process (an API worker, a notebook)."""

    def __init__(self, store: Backends, *, recheck_seconds: float = 1.0) -> None:
        self.store = store
        self.recheck_seconds = recheck_seconds
        self._lock = threading.Lock()
        self._stamp: tuple[int, str] | None = None
        self._checked = -float("inf")
        self._maps: list[StoredMap] = []
        self._by_url: dict[str, list[StoredMap]] = {}
        self._by_id: dict[int, StoredMap] = {}
        self._indexes: dict[int, MapIndex] = {}

    def maps(self) -> list[StoredMap]:
        """Every stored version, newest first within a url (re-read when the catalogue changed)."""
        now = time.monotonic()
        if now - self._checked >= self.recheck_seconds:
            with self._lock:
                stamp = self.store.maps.catalogue_stamp()
                if stamp != self._stamp:
                    self._maps = self.store.maps.search_concept_maps()
                    self._by_url = {}
                    self._by_id = {stored.stored_id: stored for stored in self._maps}
                    for stored in self._maps:  # newest first within a url, as searched
                        self._by_url.setdefault(stored.url, []).append(stored)
                    known = {stored.id for stored in self._maps}
                    self._indexes = {key: value for key, value in self._indexes.items() if key in known}
                    self._stamp = stamp
                self._checked = now
        return self._maps

    def by_id(self, map_id: int) -> StoredMap:
        self.maps()
        found = self._by_id.get(map_id)
        return found if found is not None else self.store.maps.get_concept_map(map_id)

    def versions(self, url: str) -> list[StoredMap]:
        """The stored versions of one canonical url, newest first (no scan of the catalogue)."""
        self.maps()
        return self._by_url.get(url, [])

    def index(self, stored: StoredMap) -> MapIndex:
        """The version's index, built once per process (the hot path is a dict read); a map
        sent with a request (no id) is indexed for that request only."""
        if stored.id is None:
            return MapIndex(stored.resource)
        found = self._indexes.get(stored.id)
        if found is None:
            with self._lock:
                found = self._indexes.get(stored.id) or MapIndex(stored.as_served())
                self._indexes[stored.id] = found
        return found


@dataclass(frozen=True, slots=True)
class MapChoice:
    """Which maps a question is about: one version by id, one canonical url (and version),
    or every map in scope (optionally by its source and target scope). A plain dataclass:
    one is made per ``$translate``, the hot path."""

    map_id: int | None = None
    url: str | None = None
    version: str | None = None
    source_scope: str | None = None
    target_scope: str | None = None


def choose_maps(cache: MapCache, choice: MapChoice, sent: Sequence[StoredMap] = ()) -> list[StoredMap]:
    """The maps to translate with. A url names one version (:mod:`terminology.versions`:
    the one named, else the latest active); maps sent with the request come before stored
    ones of the same url. Without a url, the latest version of every active or draft map
    in scope answers."""
    if choice.map_id is not None:
        return [cache.by_id(choice.map_id)]
    if choice.url:
        url, _, pinned = choice.url.partition("|")
        version = choice.version or pinned or None
        found = _pick(sent_here, version) if (sent_here := [m for m in sent if m.url == url]) else None
        if found is None:
            found = _pick(cache.versions(url), version)
        if found is None:
            wanted = f"{url}|{version}" if version else url
            raise ConceptMapNotFoundError(f"ConceptMap {wanted} is not known to this server")
        return [found]
    scoped = _latest(sent, [m for m in cache.maps() if m.status in ("active", "draft")])
    if choice.source_scope:
        scoped = [m for m in scoped if _in_scope(m, "source", choice.source_scope)]
    if choice.target_scope:
        scoped = [m for m in scoped if _in_scope(m, "target", choice.target_scope)]
    return scoped


def _pick(versions: Sequence[StoredMap], version: str | None) -> StoredMap | None:
    return pick_version(
        versions, version, version_of=lambda m: m.version, is_active=lambda m: m.status == "active"
    )


def _latest(sent: Sequence[StoredMap], stored: Sequence[StoredMap]) -> list[StoredMap]:
    """The latest version per url, a url the request sent being answered by what it sent."""
    chosen = newest(sent)
    given = {m.url for m in chosen}
    return chosen + [m for m in newest(stored) if m.url not in given]


def _in_scope(stored: StoredMap, side: str, asked: str) -> bool:
    """The map's scope is the value set asked — or, for a scope that is a code system's
    implicit value set (``SYSTEM?fhir_vs``), the system itself, as clients often ask."""
    scope = _scope(stored, side)
    return scope is not None and asked in (scope, scope.removesuffix("?fhir_vs"))


def _scope(stored: StoredMap, side: str) -> str | None:
    scope: str | None = stored.resource.get(f"{side}Uri", stored.resource.get(f"{side}Canonical"))
    return scope


def translate_question(
    cache: MapCache, question: Question, maps: Sequence[StoredMap], sent: Sequence[StoredMap] = ()
) -> list[Match]:
    """Every match of ``question`` in ``maps``, in map order."""
    return translator(cache, maps, sent)(question)


def translator(
    cache: MapCache, maps: Sequence[StoredMap], sent: Sequence[StoredMap] = ()
) -> Callable[[Question], list[Match]]:
    """A function answering questions with ``maps``, indexed once (a column of codes asks
    many). Only when a map's ``unmapped`` mode points at another map (``other-map``) are
    the other maps indexed."""
    indexes = [cache.index(stored) for stored in maps]
    others = None
    if any(index.falls_back for index in indexes):
        others = {m.url: cache.index(m) for m in _latest(sent, cache.maps())}

    def answer(question: Question) -> list[Match]:
        matches: list[Match] = []
        for index in indexes:
            matches.extend(translate(index, question, others=others))
        return matches

    return answer


@dataclass(frozen=True, slots=True)
class Translation:
    """What ``$translate`` answers: the matches, the maps consulted, and — when nothing
    maps — why, in words an interface developer can act on."""

    matches: list[Match]
    maps: list[dict[str, Any]]
    result: bool
    message: str | None


def sent_maps(resources: Sequence[dict[str, Any]]) -> list[StoredMap]:
    """ConceptMaps sent with a request (R4 or R5), as the versions the service answers with."""
    sent = []
    for resource in resources:
        r4 = as_r4(resource)
        sent.append(
            StoredMap(
                id=None, url=r4["url"], version=str(r4.get("version", "")), status=r4["status"], resource=r4
            )
        )
    return sent


def translate_request(
    cache: MapCache, question: Question, choice: MapChoice, sent: Sequence[dict[str, Any]] = ()
) -> Translation:
    """``$translate``: the maps ``choice`` names (those ``sent`` with the request before
    stored ones of the same url), asked ``question``."""
    given = sent_maps(sent)
    chosen = choose_maps(cache, choice, given)
    matches = translator(cache, chosen, given)(question)
    maps = [stored.resource for stored in chosen]
    found = has_result(matches)
    return Translation(matches, maps, found, None if found else no_match_message(question, maps))
