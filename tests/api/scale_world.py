"""The review page's project at real size: every CIM-11 MMS concept (36,044) matched to
CIM-10 FR, as ``make demo`` builds it, with one user per role.

Matching takes about two minutes, so the database is built once per test run into a
template that every xdist worker shares (a file lock makes the others wait), and each test
works on its own copy of the file.
"""

from __future__ import annotations

import fcntl
import json
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from terminology.cli.curation import SCALE_PROJECT, open_scale_review
from terminology.importers import importer_class
from terminology.review.workflow import Role
from terminology.services.code_systems import read_manifest
from terminology.services.importing import import_code_system
from terminology.settings import Settings
from terminology.storage import migrate, projects, users
from terminology.storage.database import SqlDatabase
from terminology.storage.engine import make_engine
from terminology.storage.store import SqlStore
from tests.conftest import ROOT

MEMBERS = {
    "viewer": Role.VIEWER,
    "author": Role.AUTHOR,
    "author2": Role.AUTHOR,
    "reviewer": Role.REVIEWER,
    "reconciler": Role.RECONCILER,
}
"""Besides ``admin``, who runs the match (as ``demo`` does in ``make demo``)."""


@dataclass(frozen=True)
class ScaleWorld:
    database: Path
    project_id: int
    tokens: dict[str, str]

    @property
    def url(self) -> str:
        return f"sqlite:///{self.database}"

    def store(self) -> SqlStore:
        return SqlDatabase(make_engine(Settings(database_url=self.url)))


@contextmanager
def _locked(path: Path) -> Iterator[None]:
    with path.open("w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def scale_template(folder: Path) -> tuple[Path, dict[str, object]]:
    """The shared template database and what the tests need to know of it (built once)."""
    folder.mkdir(parents=True, exist_ok=True)
    template, facts = folder / "scale.db", folder / "scale.json"
    with _locked(folder / "scale.lock"):
        if not facts.exists():
            _build(folder / "scale-building.db", facts)
            (folder / "scale-building.db").rename(template)
    return template, json.loads(facts.read_text(encoding="utf-8"))


def _build(database: Path, facts: Path) -> None:
    database.unlink(missing_ok=True)
    engine = make_engine(Settings(database_url=f"sqlite:///{database}"))
    migrate.upgrade(engine)
    store = SqlDatabase(engine)
    for entry in read_manifest(ROOT / "data" / "bundled.toml", only=("CIM10FR", "CIM11MMSFR")):
        import_code_system(
            store,
            importer_class(entry.format).with_options(entry.options),
            entry.path,
            overrides=entry.metadata,
        )
    _, admin_token = users.create_user(store, "admin")
    open_scale_review(store, member="admin")
    project = projects.get_project(store, SCALE_PROJECT)
    tokens = {"admin": admin_token}
    for name, role in MEMBERS.items():
        user, tokens[name] = users.create_user(store, name)
        users.add_member(store, project, user, role)
    with engine.connect() as connection:
        connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    engine.dispose()
    facts.write_text(json.dumps({"project_id": project.id, "tokens": tokens}), encoding="utf-8")


def scale_copy(template: Path, facts: dict[str, object], folder: Path) -> ScaleWorld:
    """A private copy of the template for one test (its decisions stay its own)."""
    database = folder / "scale-copy.db"
    shutil.copyfile(template, database)
    tokens = facts["tokens"]
    assert isinstance(tokens, dict)
    return ScaleWorld(database=database, project_id=int(str(facts["project_id"])), tokens=dict(tokens))
