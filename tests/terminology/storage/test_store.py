"""The store contract, on SQLite and PostgreSQL: versions, re-imports, diffs, search."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlmodel import SQLModel

from terminology.errors import CodeSystemNotFoundError, DatabaseNotReadyError, VersionConflictError
from terminology.importers import importer_class
from terminology.models import CodeSystemMetadata, ImportOutcome
from terminology.services.importing import import_code_system
from terminology.settings import Settings
from terminology.storage import migrate
from terminology.storage.database import SqlDatabase
from terminology.storage.engine import make_engine
from terminology.storage.store import SqlStore

V1 = "code,display,parent,synonyms\nA,Anémie,,\nA1,Anémie ferriprive,A,carence martiale|anémie sidéropénique\nB,Bronchite,,\nC,Coqueluche,,\n"
V2 = "code,display,parent,synonyms\nA,Anémie,,\nA1,Anémie par carence en fer,A,carence martiale\nB,Bronchite,,\nD,Diphtérie,,\n"


def load(store: SqlStore, tmp_path: Path, text: str, version: str, name: str = "codes.csv"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return import_code_system(
        store,
        importer_class("csv").with_options({}),
        path,
        overrides=CodeSystemMetadata(url="urn:test:codes", version=version, language="fr"),
    )


def test_migrations_match_the_models(store: SqlStore) -> None:
    with store.engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), SQLModel.metadata)
    assert differences == []


def test_import_stores_concepts_labels_and_hierarchy(store: SqlStore, tmp_path: Path) -> None:
    report = load(store, tmp_path, V1, "1")
    assert report.outcome is ImportOutcome.CREATED
    assert (report.code_system.concept_count, report.designation_count, report.edge_count) == (
        4,
        2,
        1,
    )
    system = store.code_system("urn:test:codes", "1")
    assert system.languages == ("fr",)
    concept = store.concept(system, "A1")
    assert concept is not None
    assert concept.parents == ("A",)
    assert [d.value for d in concept.designations] == ["carence martiale", "anémie sidéropénique"]
    assert {d.language for d in concept.designations} == {"fr"}
    assert store.children(system, "A") == ["A1"]


def test_a_version_is_found_by_its_database_id(store: SqlStore, tmp_path: Path) -> None:
    first = load(store, tmp_path, V1, "1").code_system
    second = load(store, tmp_path, V2, "2", name="v2.csv").code_system
    assert store.code_system_by_id(second.id) == second and store.code_system_by_id(first.id) == first
    with pytest.raises(CodeSystemNotFoundError, match="no code system with id 999999 is stored"):
        store.code_system_by_id(999_999)


def test_reimporting_an_identical_file_changes_nothing(store: SqlStore, tmp_path: Path) -> None:
    from tests.conftest import table_counts

    first = load(store, tmp_path, V1, "1")
    before = table_counts(store)
    again = load(store, tmp_path, V1, "1")
    assert again.outcome is ImportOutcome.UNCHANGED
    assert again.code_system == first.code_system
    assert table_counts(store) == before


def test_same_version_from_a_different_file_is_refused(store: SqlStore, tmp_path: Path) -> None:
    load(store, tmp_path, V1, "1")
    with pytest.raises(VersionConflictError, match="new --version"):
        load(store, tmp_path, V2, "1")


def test_new_version_reports_added_retired_relabelled(store: SqlStore, tmp_path: Path) -> None:
    load(store, tmp_path, V1, "1")
    report = load(store, tmp_path, V2, "2")
    assert report.previous_version == "1"
    assert report.changes is not None
    assert (report.changes.added, report.changes.retired, report.changes.relabelled) == (1, 1, 1)
    assert report.changes.examples_added == ("D",)
    assert report.changes.examples_retired == ("C",)
    assert report.changes.examples_relabelled == ("A1",)
    assert [s.version for s in store.code_systems()] == ["2", "1"]
    assert store.code_system("urn:test:codes").version == "2"
    assert report.changes.moved == 0  # same parents for the codes both versions have


def test_a_new_hierarchy_alone_is_reported(store: SqlStore, tmp_path: Path) -> None:
    """Same codes, same labels, other parents: not "nothing changed"."""
    load(store, tmp_path, V1, "1")
    regrouped = V1.replace("A1,Anémie ferriprive,A,", "A1,Anémie ferriprive,B,")
    report = load(store, tmp_path, regrouped, "2", name="regrouped.csv")
    assert report.changes is not None
    changes = report.changes
    assert (changes.added, changes.retired, changes.relabelled, changes.moved) == (0, 0, 0, 1)
    assert changes.examples_moved == ("A1",)


def test_search_ignores_case_and_accents_and_finds_synonyms(store: SqlStore, tmp_path: Path) -> None:
    load(store, tmp_path, V1, "1")
    system = store.code_system("urn:test:codes", "1")
    assert [c.code for c in store.concepts(system, search="ANEMIE")] == ["A", "A1"]
    assert [c.code for c in store.concepts(system, search="sideropenique")] == ["A1"]
    assert [c.code for c in store.concepts(system, search="b")] == ["B"]
    assert [c.code for c in store.concepts(system, limit=2, offset=1)] == ["A1", "B"]


def test_unknown_code_system_is_a_clear_error(store: SqlStore) -> None:
    with pytest.raises(CodeSystemNotFoundError, match="urn:nothing"):
        store.code_system("urn:nothing", "9")


def test_unmigrated_database_asks_for_upgrade(tmp_path: Path) -> None:
    engine = make_engine(Settings(database_url=f"sqlite:///{tmp_path / 'empty.db'}"))
    with pytest.raises(DatabaseNotReadyError, match="db upgrade"):
        SqlDatabase(engine).code_systems()
    with engine.connect() as connection:
        assert sa.inspect(connection).get_table_names() == []


def test_concurrent_imports_of_one_version_store_it_once(
    database_url: str, store: SqlStore, tmp_path: Path
) -> None:
    """Two curators importing the same release at once: one stores it, the other is told."""
    import threading

    from tests.conftest import table_counts

    path = tmp_path / "codes.csv"
    path.write_text(V1, encoding="utf-8")
    outcomes: list[str] = []

    def importing() -> None:
        own = SqlDatabase(make_engine(Settings(database_url=database_url)))
        try:
            report = import_code_system(
                own,
                importer_class("csv").with_options({}),
                path,
                overrides=CodeSystemMetadata(url="urn:test:codes", version="1"),
            )
            outcomes.append(report.outcome.value)
        except VersionConflictError:
            outcomes.append("conflict")
        finally:
            own.engine.dispose()

    threads = [threading.Thread(target=importing) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(outcomes) in (["created", "unchanged"], ["conflict", "created"])
    assert [s.version for s in store.code_systems()] == ["1"]
    assert table_counts(store)["concept"] == 4


def test_sqlite_reads_a_concept_through_the_code_index_after_an_import(tmp_path: Path) -> None:
    """Without statistics SQLite read a concept's labels by scanning every label of its
    system (the primary key): 8 ms instead of 0.1 ms per look-up on CIM-11. Imports now
    refresh them (``store.refresh_statistics``)."""
    engine = make_engine(Settings(database_url=f"sqlite:///{tmp_path / 'plan.db'}"))
    migrate.upgrade(engine)
    store = SqlDatabase(engine)
    source = tmp_path / "labels.csv"
    rows = "".join(f"C{i},Libellé {i},synonyme {i}|autre {i}\n" for i in range(2000))
    source.write_text("code,display,synonyms\n" + rows, encoding="utf-8")
    metadata = CodeSystemMetadata(url="urn:plan", version="1", name="plan", language="fr")
    system = import_code_system(
        store, importer_class("csv").with_options({}), source, overrides=metadata
    ).code_system
    with engine.connect() as connection:
        plan = connection.exec_driver_sql(
            "EXPLAIN QUERY PLAN SELECT * FROM designation WHERE system_id = ? AND code IN ('C1', 'C2')",
            (system.id,),
        ).all()
    assert any("ix_designation_system_code" in str(step) for step in plan), plan
    found = store.concept(system, "C1")
    assert found is not None and {d.value for d in found.designations} >= {"synonyme 1", "autre 1"}
    engine.dispose()
