"""FHIR errors: every error of a ``/fhir`` route is an ``OperationOutcome`` with the HTTP
status the specification asks for, rendered here once; no internal message leaks."""

from __future__ import annotations

from typing import Any

from fastapi.responses import JSONResponse

from api.problems import ThrottledError
from terminology.errors import ConcordanceError

FHIR_JSON = "application/fhir+json"


class FhirError(ConcordanceError):
    """An error of a FHIR operation's own rules, answered as an OperationOutcome with
    ``status`` and the FHIR issue type ``code`` given where it is raised."""

    def __init__(self, status: int, code: str, diagnostics: str) -> None:
        self.http_status, self.fhir_issue, self.diagnostics = status, code, diagnostics
        super().__init__(diagnostics)


TX_ISSUE_TYPE = "http://hl7.org/fhir/tools/CodeSystem/tx-issue-type"


MESSAGE_ID = "http://hl7.org/fhir/StructureDefinition/operationoutcome-message-id"


def operation_outcome(
    code: str,
    text: str,
    severity: str = "error",
    *,
    kind: str | None = None,
    message_id: str | None = None,
    expression: str | None = None,
) -> dict[str, Any]:
    """One issue, its message in ``details.text`` as terminology servers give it (``kind``: the
    ``tx-issue-type``, default ``code``, none when empty; ``message_id``: the reference servers' id;
    ``expression``: where the fault lies)."""
    tx_issue = kind if kind is not None else code
    details: dict[str, Any] = {"coding": [{"system": TX_ISSUE_TYPE, "code": tx_issue}]} if tx_issue else {}
    issue: dict[str, Any] = {"severity": severity, "code": code, "details": {**details, "text": text}}
    if message_id:
        issue = {"extension": [{"url": MESSAGE_ID, "valueString": message_id}], **issue}
    if expression:  # location too: R4 has it, and clients of the reference servers read it
        issue["location"], issue["expression"] = [expression], [expression]
    return {"resourceType": "OperationOutcome", "issue": [issue]}


def fhir_response(body: dict[str, Any], status: int = 200) -> JSONResponse:
    return JSONResponse(body, status_code=status, media_type=FHIR_JSON)


def render_fhir_error(error: Exception) -> JSONResponse:
    """Every error of a ``/fhir`` route, as an OperationOutcome with the status and issue
    type the error catalogue gives its class (:mod:`terminology.errors`)."""
    if isinstance(error, ConcordanceError):
        outcome = operation_outcome(
            error.fhir_issue,
            str(error),
            kind=error.tx_issue,
            message_id=error.message_id,
            expression=error.expression,
        )
        answer = fhir_response(outcome, error.http_status)
        if isinstance(error, ThrottledError):
            answer.headers["Retry-After"] = "5"
        return answer
    if isinstance(error, RecursionError):
        return fhir_response(operation_outcome("invalid", "the request is nested too deep to read"), 400)
    return fhir_response(operation_outcome("exception", "the server could not answer"), 500)


def searchset(total: int, links: list[dict[str, str]], entries: list[dict[str, Any]]) -> JSONResponse:
    """A search's Bundle (no ``entry`` at all when there is none: FHIR JSON has no empty arrays)."""
    bundle: dict[str, Any] = {"resourceType": "Bundle", "type": "searchset", "total": total, "link": links}
    if entries:
        bundle["entry"] = entries
    return fhir_response(bundle)
