"""FHIR errors: every error of a ``/fhir`` route is an ``OperationOutcome`` with the HTTP
status the specification asks for, rendered here once; no internal message leaks."""

from __future__ import annotations

from typing import Any

from fastapi.responses import JSONResponse

from api.limits import ThrottledError
from terminology.errors import ConcordanceError
from terminology.publication.conceptmap import InvalidConceptMapError
from terminology.publication.lookup import UnknownCodeError
from terminology.publication.valueset import (
    InvalidValueSetError,
    TooCostlyError,
    UnknownCodeSystemError,
    UnknownValueSetError,
)
from terminology.storage import conceptmaps

FHIR_JSON = "application/fhir+json"


class FhirError(ConcordanceError):
    """An error to answer as an OperationOutcome with ``status``."""

    def __init__(self, status: int, code: str, diagnostics: str) -> None:
        self.status, self.issue_code, self.diagnostics = status, code, diagnostics
        super().__init__(diagnostics)


TX_ISSUE_TYPE = "http://hl7.org/fhir/tools/CodeSystem/tx-issue-type"


def operation_outcome(code: str, text: str, severity: str = "error") -> dict[str, Any]:
    """One issue, its message in ``details.text`` as terminology servers give it."""
    return {
        "resourceType": "OperationOutcome",
        "issue": [
            {
                "severity": severity,
                "code": code,
                "details": {"coding": [{"system": TX_ISSUE_TYPE, "code": code}], "text": text},
            }
        ],
    }


def fhir_response(body: dict[str, Any], status: int = 200) -> JSONResponse:
    return JSONResponse(body, status_code=status, media_type=FHIR_JSON)


def render_fhir_error(error: Exception) -> JSONResponse:
    """Every error of a ``/fhir`` route, as an OperationOutcome."""
    if isinstance(error, FhirError):
        return fhir_response(operation_outcome(error.issue_code, error.diagnostics), error.status)
    if isinstance(error, conceptmaps.ConceptMapNotFoundError):
        return fhir_response(operation_outcome("not-found", str(error)), 404)
    if isinstance(error, InvalidConceptMapError):
        return fhir_response(operation_outcome("invalid", str(error)), 400)
    if isinstance(error, UnknownCodeError | UnknownValueSetError | UnknownCodeSystemError):
        return fhir_response(operation_outcome("not-found", str(error)), 404)
    if isinstance(error, TooCostlyError):
        return fhir_response(operation_outcome("too-costly", str(error)), 422)
    if isinstance(error, ThrottledError):
        answer = fhir_response(operation_outcome("throttled", str(error)), 503)
        answer.headers["Retry-After"] = "5"
        return answer
    if isinstance(error, InvalidValueSetError):
        return fhir_response(operation_outcome("invalid", str(error)), 400)
    if isinstance(error, ConcordanceError):
        return fhir_response(operation_outcome("processing", str(error)), 422)
    if isinstance(error, RecursionError):
        return fhir_response(operation_outcome("invalid", "the request is nested too deep to read"), 400)
    return fhir_response(operation_outcome("exception", "the server could not answer"), 500)
