"""Engines are built on demand from settings, never at import time."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from terminology.settings import Settings
from terminology.text import fold


def _fold_or_none(value: str | None) -> str | None:
    return fold(value) if value is not None else None


def normalise_url(url: str) -> str:
    """Accept the plain ``postgresql://`` form users copy from docs; we drive psycopg 3."""
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://") :]
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://") :]
    return url


def _tune_sqlite(dbapi_connection: Any, _record: Any) -> None:
    """WAL lets readers work during an import; foreign keys are off by default in SQLite."""
    dbapi_connection.create_function("concordance_fold", 1, _fold_or_none, deterministic=True)
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def make_engine(settings: Settings) -> Engine:
    """An engine for the configured database, with SQLite tuned for bulk imports."""
    url = normalise_url(settings.database_url)
    if url.startswith("sqlite"):
        engine = sa.create_engine(url, echo=settings.sql_echo)
        sa.event.listen(engine, "connect", _tune_sqlite)
        return engine
    return sa.create_engine(url, echo=settings.sql_echo, pool_pre_ping=True)
