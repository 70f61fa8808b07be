"""Shared fixtures: a migrated store on SQLite and on the local PostgreSQL server.

Every storage-touching test runs on both. Outside CI an unreachable
PostgreSQL skips its half; with ``CI=true`` it is a failure.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg
import pytest
import sqlalchemy as sa

from terminology.models import CodeSystem
from terminology.settings import Settings
from terminology.storage import migrate
from terminology.storage.database import SqlDatabase
from terminology.storage.engine import make_engine
from terminology.storage.store import SqlStore

POSTGRES = os.environ.get("CONCORDANCE_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/test")
ROOT = Path(__file__).resolve().parent.parent
SHARED_DATA = ROOT.parent / "shared" / "data"
BUNDLED = ROOT / "data"
FIXTURES = Path(__file__).resolve().parent / "fixtures"


def postgres_or_fail() -> None:
    try:
        psycopg.connect(POSTGRES, connect_timeout=3).close()
    except psycopg.OperationalError as error:
        if os.environ.get("CI") == "true":
            pytest.fail(f"PostgreSQL is required in CI and unreachable at {POSTGRES}: {error}")
        pytest.skip(f"PostgreSQL unreachable at {POSTGRES} (required when CI=true)")


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh, empty database: an SQLite file, or a private PostgreSQL schema."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'concordance.db'}"
        return
    postgres_or_fail()
    schema = f"t_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(POSTGRES, autocommit=True) as admin:
        admin.execute(f"CREATE SCHEMA {schema}")
    try:
        base = POSTGRES.replace("postgresql://", "postgresql+psycopg://", 1)
        yield f"{base}?options=-csearch_path%3D{schema}"
    finally:
        with psycopg.connect(POSTGRES, autocommit=True) as admin:
            admin.execute(f"DROP SCHEMA {schema} CASCADE")


@pytest.fixture
def store(database_url: str) -> Iterator[SqlStore]:
    engine = make_engine(Settings(database_url=database_url))
    migrate.upgrade(engine)
    yield SqlDatabase(engine)
    engine.dispose()


def table_counts(store: SqlStore) -> dict[str, int]:
    """Row counts of every Concordance table, to prove a failed import changed nothing."""
    import sqlalchemy as sa

    with store.engine.connect() as connection:
        return {
            table: connection.execute(sa.text(f"SELECT count(*) FROM {table}")).scalar_one()
            for table in ("code_system", "concept", "designation", "hierarchy_edge")
        }


def import_samu(store: SqlStore, version: str, *, url: str = "urn:samu") -> CodeSystem:
    """The bundled SAMU-Hub nomenclature ``version`` (``1.9`` or ``2.3``), stored under ``url``."""
    from terminology.importers import importer_class
    from terminology.models import CodeSystemMetadata
    from terminology.services.importing import import_code_system

    return import_code_system(
        store,
        importer_class("csv").with_options({}),
        BUNDLED / "samu_nomenclature" / f"samu_nomenclature_v{version}.csv",
        overrides=CodeSystemMetadata(url=url, version=version, language="fr", name="SAMU"),
    ).code_system


@pytest.fixture
def samu(store: SqlStore) -> dict[str, CodeSystem]:
    """Both bundled SAMU-Hub versions, by version."""
    return {version: import_samu(store, version) for version in ("1.9", "2.3")}


@contextmanager
def counted(store: SqlStore) -> Iterator[list[str]]:
    """The SQL statements run on ``store`` inside the block (to show a cost does not grow)."""
    statements: list[str] = []

    def count(conn, cursor, statement, parameters, context, executemany):  # type: ignore[no-untyped-def]
        statements.append(statement)

    sa.event.listen(store.engine, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        sa.event.remove(store.engine, "before_cursor_execute", count)
