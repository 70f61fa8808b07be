"""Malformed FHIR operation input is a 400 ``OperationOutcome`` naming the bad element
(issue 12, untrusted input): never a 500, whatever shape a client sends."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from api.app import create_app
from terminology.settings import Settings
from terminology.storage import migrate
from terminology.storage.engine import make_engine

FHIR = {"Content-Type": "application/fhir+json"}
OPERATIONS = [
    "/fhir/ValueSet/$expand",
    "/fhir/ValueSet/$validate-code",
    "/fhir/CodeSystem/$lookup",
    "/fhir/CodeSystem/$validate-code",
    "/fhir/ConceptMap/$translate",
]


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    url = f"sqlite:///{Path(tmp_path_factory.mktemp('shapes')) / 'shapes.db'}"
    migrate.upgrade(make_engine(Settings(database_url=url)))
    with TestClient(create_app(Settings(database_url=url))) as test_client:
        yield test_client


def parameters(*parameter: Any) -> dict[str, Any]:
    return {"resourceType": "Parameters", "parameter": list(parameter)}


def value_set(compose: Any) -> dict[str, Any]:
    return parameters({"name": "valueSet", "resource": {"resourceType": "ValueSet", "compose": compose}})


MALFORMED: list[tuple[str, str, Any, str]] = [
    ("parameter is a string", "/fhir/ValueSet/$expand", {"resourceType": "Parameters", "parameter": "x"},
     "parameter"),
    ("parameter is a list of numbers", "/fhir/CodeSystem/$lookup",
     {"resourceType": "Parameters", "parameter": [1, 2]}, "parameter[0]"),
    ("a parameter without a name", "/fhir/CodeSystem/$lookup", parameters({"valueString": "x"}),
     "parameter[0].name"),
    ("coding is a string", "/fhir/CodeSystem/$validate-code", parameters({"name": "coding", "valueCoding": "x"}),
     "parameter[0].valueCoding"),
    ("coding code is a number", "/fhir/ConceptMap/$translate",
     parameters({"name": "coding", "valueCoding": {"system": "urn:a", "code": 12}}), "valueCoding.code"),
    ("codeableConcept coding is a string", "/fhir/ConceptMap/$translate",
     parameters({"name": "codeableConcept", "valueCodeableConcept": {"coding": "x"}}),
     "valueCodeableConcept.coding"),
    ("compose is a string", "/fhir/ValueSet/$expand", value_set("x"), "compose"),
    ("include is a list of numbers", "/fhir/ValueSet/$expand", value_set({"include": [1]}), "include[0]"),
    ("concept is a string", "/fhir/ValueSet/$expand", value_set({"include": [{"system": "urn:a", "concept": "x"}]}),
     "concept"),
    ("filter is a list of strings", "/fhir/ValueSet/$validate-code",
     value_set({"include": [{"system": "urn:a", "filter": ["x"]}]}), "filter[0]"),
    ("a tx-resource concept is a string", "/fhir/CodeSystem/$lookup",
     parameters({"name": "tx-resource", "resource": {"resourceType": "CodeSystem", "url": "urn:a", "concept": "x"}},
                {"name": "system", "valueUri": "urn:a"}, {"name": "code", "valueCode": "a"}), "concept"),
    ("a sent ConceptMap group is a number", "/fhir/ConceptMap/$translate",
     parameters({"name": "tx-resource", "resource": {"resourceType": "ConceptMap", "url": "urn:m", "group": 3}},
                {"name": "system", "valueUri": "urn:a"}, {"name": "code", "valueCode": "a"}), "group"),
    ("count is not a number", "/fhir/ValueSet/$expand",
     parameters({"name": "valueSet", "resource": {"resourceType": "ValueSet"}}, {"name": "count", "valueString": "x"}),
     "count"),
]  # fmt: skip


@pytest.mark.parametrize(("case", "path", "body", "where"), MALFORMED, ids=[m[0] for m in MALFORMED])
def test_a_malformed_shape_is_a_400_naming_the_element(
    client: TestClient, case: str, path: str, body: Any, where: str
) -> None:
    answer = client.post(path, json=body, headers=FHIR)
    assert answer.status_code == 400, f"{case}: {answer.status_code} {answer.text[:300]}"
    outcome = answer.json()
    assert outcome["resourceType"] == "OperationOutcome"
    assert outcome["issue"][0]["code"] in ("invalid", "structure", "required")
    text = outcome["issue"][0]["details"]["text"]
    assert where in text, f"{case}: {text!r} does not name {where!r}"


def test_json_nested_5000_deep_is_a_400(client: TestClient) -> None:
    deep = (
        '{"resourceType": "Parameters", "parameter": [{"name": "valueSet", "resource": '
        + ('{"a": [' * 2_500 + "]}" * 2_500)
        + "}]}"
    )
    for path in OPERATIONS:
        answer = client.post(path, content=deep, headers=FHIR)
        assert answer.status_code == 400, f"{path}: {answer.status_code}"
        assert answer.json()["resourceType"] == "OperationOutcome"


# ---------------------------------------------------------------- FHIR-shaped garbage

SCALARS = st.one_of(
    st.none(), st.booleans(), st.integers(-3, 2**70), st.floats(allow_nan=False, allow_infinity=False), st.text(max_size=12),
    st.sampled_from(["urn:a", "a", "is-a", "regex", "(a+)+", "concept", "code", "true", "http://loinc.org"]),
)  # fmt: skip
KEYS = st.sampled_from([
    "resourceType", "name", "url", "system", "code", "version", "display", "coding", "concept", "compose",
    "include", "exclude", "filter", "property", "op", "value", "valueSet", "group", "element", "target",
    "part", "resource", "valueString", "valueCoding", "valueCodeableConcept", "valueUri", "valueBoolean",
    "valueInteger", "equivalence", "designation", "contains", "expansion", "parameter",
])  # fmt: skip
JSON = st.recursive(
    SCALARS,
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(KEYS, inner, max_size=5)),
    max_leaves=25,
)
NAMES = st.sampled_from([
    "url", "valueSet", "code", "system", "coding", "codeableConcept", "tx-resource", "count", "offset",
    "filter", "activeOnly", "version", "display", "targetsystem", "reverse", "property", "useSupplement",
    "sourceCode", "targetCode", "conceptMap", "valueSetVersion",
])  # fmt: skip
VALUE_KEYS = st.sampled_from([
    "valueString", "valueUri", "valueCode", "valueCoding", "valueCodeableConcept", "valueBoolean",
    "valueInteger", "resource",
])  # fmt: skip
RESOURCES = st.fixed_dictionaries(
    {"resourceType": st.sampled_from(["ValueSet", "CodeSystem", "ConceptMap"])},
    optional={"url": SCALARS, "compose": JSON, "concept": JSON, "group": JSON, "expansion": JSON,
              "content": SCALARS, "version": SCALARS},
)  # fmt: skip
PARAMETER = st.one_of(
    st.builds(lambda name, key, value: {"name": name, key: value}, NAMES, VALUE_KEYS, JSON),
    st.builds(lambda name, resource: {"name": name, "resource": resource}, NAMES, RESOURCES),
    JSON,
)
BODIES = st.one_of(
    st.builds(lambda params: {"resourceType": "Parameters", "parameter": params}, st.lists(PARAMETER, max_size=5)),
    st.fixed_dictionaries({"resourceType": st.just("Parameters")}, optional={"parameter": JSON}),
    JSON,
)  # fmt: skip


def test_fhir_shaped_garbage_never_gets_a_server_error(client: TestClient) -> None:
    """Hypothesis sends Parameters-like bodies built from FHIR's own element names to each
    operation (derandomised: CI sees the same cases)."""
    failures: list[str] = []

    @given(path=st.sampled_from(OPERATIONS), body=BODIES)
    @settings(max_examples=400, deadline=None, derandomize=True, database=None,
              suppress_health_check=list(HealthCheck))  # fmt: skip
    def garbage(path: str, body: Any) -> None:
        answer = client.post(path, json=body, headers=FHIR)
        if answer.status_code >= 500 or answer.json().get("resourceType") not in (
            "OperationOutcome", "Parameters", "ValueSet"
        ):  # fmt: skip
            failures.append(f"{path} {body!r:.300} -> {answer.status_code} {answer.text[:200]}")

    garbage()
    assert not failures, "\n".join(failures[:10])
