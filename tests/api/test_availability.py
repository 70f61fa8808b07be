"""No anonymous request can stall the server (issue 12, availability).

A real uvicorn server over loopback, on a database holding the bundled ICD-10-CM (47,200
concepts): heavy ValueSet operations run off the event loop, a stored code system is
indexed once per version, a regex filter is compiled once, and every limit of the
settings answers with a clear refusal instead of work.
"""

from __future__ import annotations

import statistics
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx2 as httpx
import pytest

from api.app import create_app
from terminology.importers import importer_class
from terminology.models import CodeSystemMetadata
from terminology.services.importing import import_code_system
from terminology.settings import Settings
from terminology.storage import migrate
from terminology.storage.database import SqlDatabase
from terminology.storage.engine import make_engine
from tests.conftest import BUNDLED
from tests.live_server import serving

CM = "http://hl7.org/fhir/sid/icd-10-cm"
FHIR = {"Content-Type": "application/fhir+json"}


@pytest.fixture(scope="module")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    url = f"sqlite:///{tmp_path_factory.mktemp('availability') / 'cm.db'}"
    engine = make_engine(Settings(database_url=url))
    migrate.upgrade(engine)
    metadata = CodeSystemMetadata(url=CM, version="2026", language="en", name="ICD10CM")
    import_code_system(
        SqlDatabase(engine),
        importer_class("csv").with_options({"display_column": "label_en", "parent_column": "parent_code"}),
        BUNDLED / "icd10cm_2026" / "icd10cm_2026_concepts.csv",
        overrides=metadata,
    )
    engine.dispose()
    yield url


def expand_body(includes: int, *, count: int | None = 10, **part: Any) -> dict[str, Any]:
    value_set = {
        "resourceType": "ValueSet",
        "url": "urn:test:heavy",
        "compose": {"include": [{"system": CM, **part} for _ in range(includes)]},
    }
    parameter: list[dict[str, Any]] = [{"name": "valueSet", "resource": value_set}]
    if count is not None:
        parameter.append({"name": "count", "valueInteger": count})
    return {"resourceType": "Parameters", "parameter": parameter}


def outcome_code(answer: httpx.Response) -> str:
    body = answer.json()
    assert body["resourceType"] == "OperationOutcome", body
    assert body["issue"][0]["details"]["text"]
    code: str = body["issue"][0]["code"]
    return code


def test_metadata_answers_while_heavy_expansions_run(database_url: str) -> None:
    """Without a cache every include reloads ICD-10-CM: seconds of work per request, which
    used to stall every other request of the worker, /fhir/metadata included."""
    app = create_app(Settings(database_url=database_url, code_system_cache_concepts=0))
    with serving(app) as url, httpx.Client(base_url=url, timeout=60) as client:
        heavy_seconds: list[float] = []

        def heavy() -> None:
            started = time.perf_counter()
            answer = client.post("/fhir/ValueSet/$expand", json=expand_body(3), headers=FHIR)
            assert answer.status_code == 200, answer.text
            assert answer.json()["expansion"]["total"] == 47_200
            heavy_seconds.append(time.perf_counter() - started)

        workers = [threading.Thread(target=heavy) for _ in range(2)]
        for worker in workers:
            worker.start()
        latencies = []
        while any(worker.is_alive() for worker in workers):
            started = time.perf_counter()
            assert client.get("/fhir/metadata").status_code == 200
            latencies.append(time.perf_counter() - started)
            time.sleep(0.02)
        for worker in workers:
            worker.join()
    assert len(heavy_seconds) == 2 and min(heavy_seconds) > 1.0  # the heavy work was real
    assert len(latencies) >= 10
    # Blocked, a metadata call would wait for a whole expansion; measured against the
    # expansions themselves, so that a busy CI machine slows both sides alike.
    assert max(latencies) < 0.4 * min(heavy_seconds), (
        f"metadata waited {max(latencies):.2f} s behind expansions of {min(heavy_seconds):.2f} s"
    )
    assert statistics.median(latencies) < 0.1


def test_a_stored_code_system_is_indexed_once_per_version(database_url: str) -> None:
    app = create_app(Settings(database_url=database_url))
    with serving(app) as url, httpx.Client(base_url=url, timeout=60) as client:
        started = time.perf_counter()
        first = client.post("/fhir/ValueSet/$expand", json=expand_body(3), headers=FHIR)
        cold = time.perf_counter() - started
        assert first.status_code == 200 and first.json()["expansion"]["total"] == 47_200
        assert app.state.code_systems.loads == 1  # three includes, one index
        started = time.perf_counter()
        again = client.post("/fhir/ValueSet/$expand", json=expand_body(3), headers=FHIR)
        warm = time.perf_counter() - started
        assert again.status_code == 200 and app.state.code_systems.loads == 1
        validate = client.get(
            "/fhir/ValueSet/$validate-code",
            params={"url": "urn:none", "system": CM, "code": "A00.0"},
        )
        assert validate.status_code == 404  # unknown value set, but nothing reloaded
        assert app.state.code_systems.loads == 1
    assert warm < cold / 2, f"a warm expansion took {warm:.2f} s, a cold one {cold:.2f} s"


def test_a_long_regex_is_compiled_once_per_filter(database_url: str) -> None:
    """A 10 KB pattern used to be compiled for each of the 47,200 codes (48 s)."""
    pattern = "(" + "|".join(f"Z{n:04d}" for n in range(1_700)) + ")"
    assert len(pattern) > 10_000
    app = create_app(Settings(database_url=database_url))
    with serving(app) as url, httpx.Client(base_url=url, timeout=60) as client:
        started = time.perf_counter()
        answer = client.post(
            "/fhir/ValueSet/$expand",
            json=expand_body(1, filter=[{"property": "code", "op": "regex", "value": pattern}]),
            headers=FHIR,
        )
        took = time.perf_counter() - started
    assert answer.status_code == 200, answer.text
    assert answer.json()["expansion"]["total"] == 0
    assert took < 10.0, f"the regex filter took {took:.1f} s (compiled per code: 48 s)"


def test_request_bodies_over_the_limit_are_refused_before_they_are_read(database_url: str) -> None:
    app = create_app(Settings(database_url=database_url, max_body_bytes=64 * 1024))
    big = b'{"resourceType": "Parameters", "parameter": [' + b" " * 200_000 + b"]}"
    with serving(app) as url, httpx.Client(base_url=url, timeout=30) as client:
        fhir = client.post("/fhir/ValueSet/$expand", content=big, headers=FHIR)
        assert fhir.status_code == 413 and outcome_code(fhir) == "too-long"
        assert "65536" in fhir.json()["issue"][0]["details"]["text"]
        # a curation route refuses the size before asking who is calling
        curation = client.post("/api/projects/1/bulk-decisions", content=big, headers=FHIR)
        assert curation.status_code == 413 and curation.json()["code"] == "too-large"

        def chunks() -> Iterator[bytes]:  # no Content-Length: the limit is counted as it streams
            yield big[:1000]
            for start in range(1000, len(big), 10_000):
                yield big[start : start + 10_000]

        streamed = client.post("/fhir/ValueSet/$expand", content=chunks(), headers=FHIR)
        assert streamed.status_code == 413
        small = client.post("/fhir/ValueSet/$expand", json=expand_body(1), headers=FHIR)
        assert small.status_code == 200


def test_value_set_parts_codings_and_expansion_size_are_bounded(database_url: str) -> None:
    assert Settings(database_url=database_url).max_expansion == 1_000  # the reference servers' limit
    settings = Settings(database_url=database_url, max_value_set_parts=4, max_codings=10)
    app = create_app(settings)
    with serving(app) as url, httpx.Client(base_url=url, timeout=60) as client:
        parts = client.post("/fhir/ValueSet/$expand", json=expand_body(5), headers=FHIR)
        assert parts.status_code == 422 and outcome_code(parts) == "too-costly"
        assert "4" in parts.json()["issue"][0]["details"]["text"]

        whole = client.post("/fhir/ValueSet/$expand", json=expand_body(1, count=None), headers=FHIR)
        assert whole.status_code == 422 and outcome_code(whole) == "too-costly"
        assert "count" in whole.json()["issue"][0]["details"]["text"]
        assert "coding" not in whole.json()["issue"][0]["details"]  # too-costly alone, as the reference says
        assert whole.json()["issue"][0]["extension"][0]["valueString"] == "VALUESET_TOO_COSTLY"
        paged = client.post("/fhir/ValueSet/$expand", json=expand_body(1, count=1_000), headers=FHIR)
        assert paged.status_code == 200 and len(paged.json()["expansion"]["contains"]) == 1_000
        too_big_page = client.post("/fhir/ValueSet/$expand", json=expand_body(1, count=5_000), headers=FHIR)
        assert too_big_page.status_code == 422 and outcome_code(too_big_page) == "too-costly"

        concept = {"coding": [{"system": CM, "code": f"A{n:02d}"} for n in range(11)]}
        body = {
            "resourceType": "Parameters",
            "parameter": [{"name": "codeableConcept", "valueCodeableConcept": concept}],
        }
        translate = client.post("/fhir/ConceptMap/$translate", json=body, headers=FHIR)
        assert translate.status_code == 422 and outcome_code(translate) == "too-costly"
        body["parameter"].append({"name": "url", "valueUri": CM})
        validate = client.post("/fhir/CodeSystem/$validate-code", json=body, headers=FHIR)
        assert validate.status_code == 422 and outcome_code(validate) == "too-costly"


def test_a_value_set_operation_past_its_time_budget_is_refused(database_url: str) -> None:
    app = create_app(
        Settings(database_url=database_url, operation_seconds=0.05, code_system_cache_concepts=0)
    )
    with serving(app) as url, httpx.Client(base_url=url, timeout=60) as client:
        answer = client.post("/fhir/ValueSet/$expand", json=expand_body(8), headers=FHIR)
    assert answer.status_code == 422 and outcome_code(answer) == "too-costly"
    assert "seconds" in answer.json()["issue"][0]["details"]["text"]
    assert app.state.code_systems.loads <= 2  # refused after about one include, not after all eight


def test_json_nested_too_deep_is_a_clear_400(database_url: str) -> None:
    app = create_app(Settings(database_url=database_url))
    deep = '{"resourceType": "Parameters", "parameter": ' + "[" * 5_000 + "]" * 5_000 + "}"
    with serving(app) as url, httpx.Client(base_url=url, timeout=30) as client:
        fhir = client.post("/fhir/ValueSet/$expand", content=deep, headers=FHIR)
        assert fhir.status_code == 400 and outcome_code(fhir) == "invalid"
        assert "deep" in fhir.json()["issue"][0]["details"]["text"]
        curation = client.post(
            "/api/projects/1/bulk-decisions",
            content='{"a": ' + "[" * 5_000 + "]" * 5_000 + "}",
            headers={"Content-Type": "application/json"},
        )
        assert curation.status_code in (400, 401) and curation.status_code < 500


def test_the_limits_are_documented_in_the_readme() -> None:
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    for name in ("max_body_bytes", "max_value_set_parts", "max_codings", "max_expansion",
                 "operation_seconds", "heavy_operations", "code_system_cache_concepts"):  # fmt: skip
        assert f"CONCORDANCE_{name.upper()}" in readme, name
