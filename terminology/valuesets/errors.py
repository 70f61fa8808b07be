"""The errors of the value-set operations, each with its FHIR issue and HTTP status."""

from __future__ import annotations

from typing import Any

from terminology.errors import CodeSystemNotFoundError, ConcordanceError


class UnknownValueSetError(ConcordanceError):
    code = "not-found"
    http_status = 404
    fhir_issue = "not-found"


class UnknownCodeSystemError(CodeSystemNotFoundError):
    """A value set names a code system the request did not send and the store lacks."""

    code = "not-found"
    system: str | None = None
    """``url|version`` of the code system that is missing."""


class InvalidValueSetError(ConcordanceError):
    code = "invalid"
    http_status = 400
    fhir_issue = "invalid"


class FilterWithoutValueError(InvalidValueSetError):
    """A compose filter (other than ``exists``) without the value it filters by."""

    tx_issue = "vs-invalid"
    message_id = "UNABLE_TO_HANDLE_SYSTEM_FILTER_WITH_NO_VALUE"

    def __init__(self, message: str, rule: dict[str, Any]) -> None:
        super().__init__(message)
        self.rule = rule

    def locate(self, value_set: dict[str, Any]) -> None:
        """Point ``expression`` at the filter in the value set that holds it."""
        for i, part in enumerate(value_set.get("compose", {}).get("include", [])):
            for j, rule in enumerate(part.get("filter", [])):
                if rule is self.rule:
                    self.expression = f"ValueSet.compose.include[{i}].filter[{j}]"


class CircularValueSetError(InvalidValueSetError):
    """A value set imports itself, directly or through others."""

    fhir_issue = "processing"
    tx_issue = "vs-invalid"
    message_id = "VALUESET_CIRCULAR_REFERENCE"


class SupplementMissingError(ConcordanceError):
    """A supplement the request or the value set requires is not available."""

    code = "not-found"
    http_status = 404
    fhir_issue = "not-found"
    message_id = "VALUESET_SUPPLEMENT_MISSING"


class TooCostlyError(ConcordanceError):
    """The operation would cost more than the server allows one request (FHIR ``too-costly``)."""

    code = "too-costly"
    http_status = 422
    fhir_issue = "too-costly"
    tx_issue = ""  # the reference servers say too-costly alone
    message_id = "VALUESET_TOO_COSTLY"


class VersionCheckError(ConcordanceError):
    """The value set names a code system version the request's ``check-system-version`` refuses."""

    code = "version-check"
    http_status = 400
    fhir_issue = "exception"
    tx_issue = "version-error"
    message_id = "VALUESET_VERSION_CHECK"

    def __init__(self, message: str, *, system: str = "", version: str | None = None) -> None:
        super().__init__(message)
        self.system = system
        self.version = version
