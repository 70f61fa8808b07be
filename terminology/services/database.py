"""Opening the database: the one place the edges (HTTP API, command line, Python API) get
their :class:`~terminology.backends.Backends` from, and bring its schema up to date.

The edges never import storage: they hold the object this module opens and hand it to the
services."""

from __future__ import annotations

from terminology.backends import Backends
from terminology.settings import Settings, get_settings
from terminology.storage import migrate
from terminology.storage.database import SqlDatabase
from terminology.storage.engine import make_engine


def open_database(settings: Settings | None = None, *, upgrade: bool = False) -> Backends:
    """The backends of the configured database (``CONCORDANCE_DATABASE_URL``, or
    ``settings``'), its engine made now, never at import time; ``upgrade`` first brings its
    schema to the latest revision, on the same engine (an in-memory SQLite database is one
    connection's)."""
    engine = make_engine(settings or get_settings())
    if upgrade:
        migrate.upgrade(engine)
    return SqlDatabase(engine)


def upgrade_database(settings: Settings | None = None) -> str:
    """Bring the schema to the latest revision (Alembic): the revision reached, and where."""
    engine = make_engine(settings or get_settings())
    try:
        migrate.upgrade(engine)
        return f"database at revision {migrate.current_revision(engine)} ({engine.url.render_as_string()})"
    finally:
        engine.dispose()


def database_revision(settings: Settings | None = None) -> tuple[str | None, str | None]:
    """The schema's revision (None: empty) and the latest the code knows."""
    engine = make_engine(settings or get_settings())
    try:
        return migrate.current_revision(engine), migrate.head_revision()
    finally:
        engine.dispose()


def check_connection(settings: Settings | None = None) -> None:
    """Connect once and close: the database answers, or the driver's error is raised."""
    engine = make_engine(settings or get_settings())
    try:
        engine.connect().close()
    finally:
        engine.dispose()
