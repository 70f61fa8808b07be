"""The store every command opens, in a module of its own so that the command modules
(``main``, ``curation``, ``publication``) import it without importing each other."""

from __future__ import annotations

from terminology.backends import Backends
from terminology.services.database import open_database


def open_store() -> Backends:
    """The backends of the configured database, opened when a command needs them."""
    return open_database()
