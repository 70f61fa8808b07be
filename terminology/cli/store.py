"""The store every command opens, in a module of its own so that the command modules
(``main``, ``curation``, ``publication``) import it without importing each other."""

from __future__ import annotations

from terminology.settings import get_settings
from terminology.storage.engine import make_engine
from terminology.storage.store import SqlStore


def open_store() -> SqlStore:
    """The store for the configured database, built when a command needs it."""
    return SqlStore(make_engine(get_settings()))
