"""Stored code system versions indexed for ValueSet operations, shared by a worker's requests.

A stored version never changes (a re-import is a new version with a new id), so its index
is built once and kept while the worker's concept budget allows, least recently used out
first. Without it every ``include`` of ICD-10-CM reloaded 47,200 concepts.
"""

from __future__ import annotations

import gc
import threading
from collections import OrderedDict

from terminology.publication.lookup import CodeSystemIndex
from terminology.publication.stored import whole_index
from terminology.storage.store import SqlStore


class StoredCodeSystems:
    """The worker's cache of indexed stored versions, bounded by their number of concepts.

    ``loads`` counts the indexes built, so that tests and benchmarks can see the cache work.
    """

    def __init__(self, store: SqlStore, *, max_concepts: int) -> None:
        self.store = store
        self.max_concepts = max_concepts
        self.loads = 0
        self._lock = threading.Lock()
        self._building: dict[int, threading.Lock] = {}
        self._indexes: OrderedDict[int, tuple[int, CodeSystemIndex]] = OrderedDict()

    def get(self, url: str, version: str | None) -> CodeSystemIndex | None:
        """The indexed version (the newest when ``version`` is None), or None if not stored."""
        system = self.store.find_code_system(url, version)
        if system is None:
            return None
        with self._lock:
            building = self._building.setdefault(system.id, threading.Lock())
        with building:  # concurrent requests for one version build it once
            cached = self._cached(system.id)
            if cached is not None:
                return cached
            index = whole_index(self.store, system)
            # The index lives as long as the worker: its half-million objects leave the
            # collector's generations, or every full collection (some of them during other
            # requests) walks them all, holding the interpreter for ~150 ms.
            gc.freeze()
            with self._lock:
                self.loads += 1
                self._keep(system.id, system.concept_count, index)
            return index

    def _cached(self, system_id: int) -> CodeSystemIndex | None:
        with self._lock:
            found = self._indexes.get(system_id)
            if found is None:
                return None
            self._indexes.move_to_end(system_id)
            return found[1]

    def _keep(self, system_id: int, size: int, index: CodeSystemIndex) -> None:
        if size > self.max_concepts:
            return
        self._indexes[system_id] = (size, index)
        while sum(kept for kept, _ in self._indexes.values()) > self.max_concepts:
            self._indexes.popitem(last=False)
