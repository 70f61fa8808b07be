"""Run every general-mode HL7 terminology ecosystem case and report how many pass.

``python -m tests.api.hl7_tx_report`` (run by ``make test`` after the tests) prints a table
per operation. It fails (exit 1) only when a case of a required operation
(``$translate``, ``$lookup``, ``CodeSystem/$validate-code``) fails, or when any answer is
a server error or not a FHIR resource; ``ValueSet/$validate-code`` and ``$expand`` are
counted, not required.
"""

from __future__ import annotations

import sys
import tempfile
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from api.app import create_app
from terminology.settings import Settings
from terminology.storage import migrate
from terminology.storage.engine import make_engine
from tests.api import hl7_tx


@dataclass(frozen=True)
class Outcome:
    case: dict[str, Any]
    status: int
    passed: bool
    fhir: bool
    """The answer was a FHIR resource (an OperationOutcome when refused)."""


def run_case(client: TestClient, case: dict[str, Any]) -> Outcome:
    answer = client.post(
        hl7_tx.OPERATION_PATH[case["operation"]],
        json=hl7_tx.request_body(case),
        headers=hl7_tx.request_headers(case),
    )
    try:
        body = answer.json()
    except ValueError:
        return Outcome(case, answer.status_code, False, False)
    fhir = isinstance(body, dict) and "resourceType" in body
    wanted_class = case.get("http-code", "2xx")[0]
    passed = (
        fhir
        and str(answer.status_code)[0] == wanted_class
        and not hl7_tx.differences(hl7_tx.expected(case), hl7_tx.as_compared(body))
    )
    return Outcome(case, answer.status_code, passed, fhir)


def run_all(client: TestClient) -> list[Outcome]:
    operations = hl7_tx.REQUIRED + hl7_tx.REPORTED
    return [run_case(client, case) for operation in operations for case in hl7_tx.cases(operation)]


def report(outcomes: list[Outcome]) -> str:
    total, passed = Counter[str](), Counter[str]()
    for outcome in outcomes:
        total[outcome.case["operation"]] += 1
        passed[outcome.case["operation"]] += outcome.passed
    lines = ["| operation | required | passed | cases |", "|---|---|---:|---:|"]
    for operation in total:
        required = "yes" if operation in hl7_tx.REQUIRED else "reported"
        lines.append(f"| {operation} | {required} | {passed[operation]} | {total[operation]} |")
    return "\n".join(lines)


def problems(outcomes: list[Outcome]) -> list[str]:
    found = []
    for outcome in outcomes:
        name = f"{outcome.case['suite']}/{outcome.case['name']}"
        if outcome.status >= 500 or not outcome.fhir:
            found.append(f"{name}: HTTP {outcome.status}, not a FHIR answer")
        elif outcome.case["operation"] in hl7_tx.REQUIRED and not outcome.passed:
            found.append(f"{name}: differs from the expected answer")
    return found


def main() -> int:
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite:///{Path(folder) / 'tx.db'}"
        migrate.upgrade(make_engine(Settings(database_url=url)))
        with TestClient(create_app(Settings(database_url=url))) as client:
            outcomes = run_all(client)
    print("HL7 terminology ecosystem, general-mode cases (tests/fixtures/hl7_tx_ecosystem):")
    print(report(outcomes))
    wrong = problems(outcomes)
    for line in wrong:
        print("FAIL", line)
    return 1 if wrong else 0


if __name__ == "__main__":
    sys.exit(main())
