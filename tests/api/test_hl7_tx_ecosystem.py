"""Every general-mode ``$translate`` (and ``$lookup``) case of the official HL7 terminology
ecosystem tests, sent as the reference runner sends it, compared by its rules."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from terminology.settings import Settings
from terminology.storage import migrate
from terminology.storage.engine import make_engine
from tests.api import hl7_tx


def test_the_suite_is_there() -> None:
    assert hl7_tx.suite_present(), f"the HL7 test cases are missing from {hl7_tx.SUITE}"
    assert len(hl7_tx.cases("translate")) == 2 and len(hl7_tx.cases("lookup")) == 5


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> TestClient:
    url = f"sqlite:///{tmp_path_factory.mktemp('tx') / 'tx.db'}"
    migrate.upgrade(make_engine(Settings(database_url=url)))
    with TestClient(create_app(Settings(database_url=url))) as test_client:
        yield test_client  # type: ignore[misc]


GENERAL = hl7_tx.cases("translate") + hl7_tx.cases("lookup")


@pytest.mark.parametrize("case", GENERAL, ids=lambda c: f"{c['operation']}-{c['name']}")
def test_general_translate_and_lookup_case(client: TestClient, case: dict) -> None:
    answer = client.post(hl7_tx.OPERATION_PATH[case["operation"]], json=hl7_tx.request_body(case))
    wanted_class = case.get("http-code", "2xx")[0]
    assert str(answer.status_code)[0] == wanted_class, answer.text
    assert hl7_tx.differences(hl7_tx.expected(case), answer.json()) == []


def test_the_comparison_catches_what_differs() -> None:
    want = {"resourceType": "Parameters", "parameter": [
        {"name": "result", "valueBoolean": True},
        {"name": "match", "part": [{"name": "concept", "valueCoding": {"code": "a"}},
                                   {"$optional$": "version:5", "name": "equivalence", "valueCode": "equivalent"},
                                   {"$optional$": "version:4", "name": "relationship", "valueCode": "equivalent"}]}]}  # fmt: skip
    right = {"resourceType": "Parameters", "parameter": [
        {"name": "match", "part": [{"name": "equivalence", "valueCode": "equivalent"},
                                   {"name": "concept", "valueCoding": {"code": "a"}}]},
        {"name": "result", "valueBoolean": True}]}  # fmt: skip
    assert hl7_tx.differences(want, right) == []
    wrong_code = {"resourceType": "Parameters", "parameter": [
        {"name": "match", "part": [{"name": "equivalence", "valueCode": "equivalent"},
                                   {"name": "concept", "valueCoding": {"code": "b"}}]},
        {"name": "result", "valueBoolean": True}]}  # fmt: skip
    assert hl7_tx.differences(want, wrong_code)
    no_equivalence = {"resourceType": "Parameters", "parameter": [
        {"name": "match", "part": [{"name": "concept", "valueCoding": {"code": "a"}}]},
        {"name": "result", "valueBoolean": True}]}  # fmt: skip
    assert hl7_tx.differences(want, no_equivalence)  # R4 must give equivalence
    extra = {**right, "parameter": [*right["parameter"], {"name": "message", "valueString": "x"}]}
    assert hl7_tx.differences(want, extra)  # what the expected answer does not have fails
