"""Every general-mode ``$translate``, ``$lookup`` and ``CodeSystem/$validate-code`` case of the
official HL7 terminology ecosystem tests, sent as the reference runner sends it, compared by
its rules; the ``ValueSet`` cases are run for the report (``python -m tests.api.hl7_tx_report``)
and must at least be answered with a FHIR resource, never a server error."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from terminology.settings import Settings
from terminology.storage import migrate
from terminology.storage.engine import make_engine
from tests.api import hl7_tx, hl7_tx_report


def test_the_suite_is_there() -> None:
    assert hl7_tx.suite_present(), f"the HL7 test cases are missing from {hl7_tx.SUITE}"
    assert len(hl7_tx.cases("translate")) == 2 and len(hl7_tx.cases("lookup")) == 5
    assert len(hl7_tx.cases("cs-validate-code")) == 5
    assert len(hl7_tx.cases("validate-code")) > 400 and len(hl7_tx.cases("expand")) > 170


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> TestClient:
    url = f"sqlite:///{tmp_path_factory.mktemp('tx') / 'tx.db'}"
    migrate.upgrade(make_engine(Settings(database_url=url)))
    with TestClient(create_app(Settings(database_url=url))) as test_client:
        yield test_client  # type: ignore[misc]


GENERAL = [case for operation in hl7_tx.REQUIRED for case in hl7_tx.cases(operation)]


@pytest.mark.parametrize("case", GENERAL, ids=lambda c: f"{c['operation']}-{c['name']}")
def test_general_required_case(client: TestClient, case: dict) -> None:
    answer = client.post(
        hl7_tx.OPERATION_PATH[case["operation"]],
        json=hl7_tx.request_body(case),
        headers=hl7_tx.request_headers(case),
    )
    wanted_class = case.get("http-code", "2xx")[0]
    assert str(answer.status_code)[0] == wanted_class, answer.text
    assert hl7_tx.differences(hl7_tx.expected(case), hl7_tx.as_compared(answer.json())) == []


def test_reported_cases_get_fhir_answers_and_the_report_counts_them(client: TestClient) -> None:
    outcomes = [hl7_tx_report.run_case(client, case) for op in hl7_tx.REPORTED for case in hl7_tx.cases(op)]
    assert hl7_tx_report.problems(outcomes) == []  # no 5xx, every answer a FHIR resource
    table = hl7_tx_report.report(outcomes)
    assert (
        f"| validate-code | reported | {sum(o.passed for o in outcomes if o.case['operation'] == 'validate-code')}"
        in table
    )


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


def test_answers_are_compared_as_the_reference_runner_reads_them() -> None:
    """R4 cross-version extensions become the R5 elements the expected files hold; text and
    meta are not compared; other extensions stay."""
    rendering = {"url": "http://hl7.org/fhir/StructureDefinition/rendering-style", "valueString": "x"}
    r4 = {"resourceType": "ValueSet", "text": {"div": "<div/>"}, "meta": {"versionId": "1"}, "expansion": {
        "extension": [{"url": hl7_tx.EXPANSION_PROPERTY, "extension": [
            {"url": "code", "valueCode": "status"}, {"url": "uri", "valueUri": "urn:p#status"}]}],
        "contains": [{"code": "a", "extension": [rendering, {"url": hl7_tx.CONTAINS_PROPERTY, "extension": [
            {"url": "code", "valueCode": "status"}, {"url": "value", "valueCode": "retired"}]}],
            "contains": [{"code": "b", "extension": [{"url": hl7_tx.CONTAINS_PROPERTY, "extension": [
                {"url": "code", "valueCode": "order"}, {"url": "value", "valueDecimal": 2}]}]}]}]}}  # fmt: skip
    compared = hl7_tx.as_compared(r4)
    assert "text" not in compared and "meta" not in compared
    assert compared["expansion"]["property"] == [{"code": "status", "uri": "urn:p#status"}]
    assert "extension" not in compared["expansion"]
    (entry,) = compared["expansion"]["contains"]
    assert entry["property"] == [{"code": "status", "valueCode": "retired"}]
    assert entry["extension"] == [rendering]
    assert entry["contains"][0]["property"] == [{"code": "order", "valueDecimal": 2}]
    parameters = {"resourceType": "Parameters", "meta": {"versionId": "1"}, "parameter": []}
    assert hl7_tx.as_compared(parameters) == {"resourceType": "Parameters", "parameter": []}
