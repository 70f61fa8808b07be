"""One text folding, the same in Python and in SQL on both databases (issue 13's bug):
"oedeme" and "coeur" find "Œdème" and "Cœur" wherever a curator or an interface searches —
the code-system search (CLI), the work queue and the ValueSet ``filter``."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from api.app import create_app
from terminology.importers import importer_class
from terminology.models import CodeSystemMetadata
from terminology.review.workflow import Role
from terminology.services.importing import import_code_system
from terminology.settings import Settings
from terminology.storage import projects, users
from terminology.storage.projects import save_candidates
from terminology.storage.store import SqlStore, folded
from terminology.text import FOLDED, fold

LABELS = {
    "A": "Œdème aigu",
    "B": "Cœur pulmonaire",
    "C": "ÆGYPTUS ærosol",
    "D": "Straße",
    "E": "Île-de-France",
}
SEARCHES = {
    "oedeme": "A",
    "coeur": "B",
    "aegyptus": "C",
    "aerosol": "C",
    "strasse": "D",
    "ile de": None,
    "ile-de": "E",
}


@pytest.fixture
def system(store: SqlStore, tmp_path: Path):  # type: ignore[no-untyped-def]
    path = tmp_path / "labels.csv"
    path.write_text("code,display\n" + "".join(f"{c},{d}\n" for c, d in LABELS.items()), encoding="utf-8")
    metadata = CodeSystemMetadata(url="urn:fold", version="1", language="fr", name="fold")
    return import_code_system(
        store, importer_class("csv").with_options({}), path, overrides=metadata
    ).code_system


def test_the_sql_folding_is_the_python_folding(store: SqlStore, system) -> None:  # type: ignore[no-untyped-def]
    dialect = store.engine.dialect.name
    samples = [*LABELS.values(), "ÉCOLE Ça ÀÔÛ Ñandú Øre Łódź Đakovo", "".join(FOLDED)]
    with store.engine.connect() as connection:
        for text in samples:
            in_sql = connection.execute(sa.select(folded(sa.literal(text), dialect))).scalar_one()
            assert in_sql == fold(text), (dialect, text)


def test_the_code_system_search_folds(store: SqlStore, system) -> None:  # type: ignore[no-untyped-def]
    for text, code in SEARCHES.items():
        found = [concept.code for concept in store.concepts(system, search=text)]
        assert found == ([code] if code else []), (store.engine.dialect.name, text, found)


def test_the_command_line_search_folds(system, database_url: str, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """``concordance concepts URL --search``, run as a terminologist runs it."""
    from tests.cli_process import concordance

    for text, code in (("oedeme", "A"), ("coeur", "B")):
        done = concordance(
            "concepts", "urn:fold|1", "--search", text, database_url=database_url, cwd=tmp_path
        )
        assert done.returncode == 0, done.stderr
        assert LABELS[code] in done.stdout and LABELS["D"] not in done.stdout, done.stdout


def test_the_work_queue_and_the_value_set_filter_fold(store: SqlStore, system, database_url: str) -> None:  # type: ignore[no-untyped-def]
    from terminology.matching.engine import match

    found = match(store, system, system, top_k=1)
    saved = save_candidates(store, "fold", system, system, found, rules=[], settings={})
    project = projects.get_project(store, saved.id)
    user, token = users.create_user(store, "ana")
    users.add_member(store, project, user, Role.VIEWER)
    with TestClient(create_app(Settings(database_url=database_url))) as client:
        for text, code in SEARCHES.items():
            rows = client.get(f"/api/projects/{project.id}/rows", params={"q": text},
                              headers={"Authorization": f"Bearer {token}"}).json()  # fmt: skip
            assert [item["source_code"] for item in rows["items"]] == ([code] if code else []), text
            expansion = client.get(
                "/fhir/ValueSet/$expand",
                params={"url": "urn:none"},
            )
            assert expansion.status_code == 404
            body = {"resourceType": "Parameters", "parameter": [
                {"name": "valueSet", "resource": {"resourceType": "ValueSet", "compose": {"include": [{"system": "urn:fold"}]}}},
                {"name": "filter", "valueString": text}]}  # fmt: skip
            answer = client.post("/fhir/ValueSet/$expand", json=body).json()
            codes = [c["code"] for c in answer["expansion"].get("contains", [])]
            assert codes == ([code] if code else []), text
