"""A property-based fuzz run of the whole OpenAPI surface (schemathesis + hypothesis).

Every operation the app documents is called with generated paths, queries, headers and
bodies, on a database holding a review project and published ConceptMaps. Whatever comes
in, the answer is never a server error, and every refusal has its family's form: an
``OperationOutcome`` on the FHIR routes, ``{code, message}`` on the curation routes.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings

from api.app import create_app
from terminology.services.concept_maps import publish_project as publish
from terminology.services.concept_maps import save_concept_map
from terminology.settings import Settings
from terminology.storage import migrate
from terminology.storage.database import SqlDatabase
from terminology.storage.engine import make_engine
from tests.api.test_curation import World, build_world
from tests.conftest import BUNDLED

EXAMPLES_PER_OPERATION = 60


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    url = f"sqlite:///{tmp_path_factory.mktemp('fuzz') / 'fuzz.db'}"
    engine = make_engine(Settings(database_url=url))
    migrate.upgrade(engine)
    store = SqlDatabase(engine)
    for found in build_world(store, url):
        publish(store, found.project, status="active")
        for name in ("ConceptMap-101.json", "ConceptMap-102.json"):
            path = BUNDLED / "hl7_conceptmaps" / "original" / name
            save_concept_map(store, json.loads(Path(path).read_text(encoding="utf-8")))
        yield found


def _operations(world: World) -> list[schemathesis.APIOperation]:
    app = create_app(Settings(database_url=str(world.store.engine.url)))
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    return [result.ok() for result in schema.get_all_operations()]


def _check(case: schemathesis.Case, world: World) -> None:
    case.headers = {**(case.headers or {}), **world.as_("admin")}  # reach past authentication
    response = case.call()
    where = f"{case.method} {case.formatted_path} -> {response.status_code}: {response.text[:300]}"
    assert response.status_code < 500, where
    if response.status_code < 400:
        return
    body = response.json()
    if case.path.startswith("/fhir"):
        assert body["resourceType"] == "OperationOutcome", where
        assert body["issue"] and all(issue["details"]["text"] for issue in body["issue"]), where
    else:
        assert set(body) >= {"code", "message"} and isinstance(body["message"], str), where


def test_no_server_error_and_errors_in_their_family_form(world: World) -> None:
    """One hypothesis run per documented operation (derandomised: CI sees the same cases)."""
    operations = _operations(world)
    assert len(operations) >= 25  # the curation and FHIR routes are all documented
    failures: list[str] = []
    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(max_examples=EXAMPLES_PER_OPERATION, deadline=None, derandomize=True, database=None,
                  suppress_health_check=list(HealthCheck))  # fmt: skip
        def fuzz(case: schemathesis.Case) -> None:
            _check(case, world)

        try:
            fuzz()
        except AssertionError as error:
            failures.append(f"{operation.label}: {error}")
    assert failures == [], "\n".join(failures)
