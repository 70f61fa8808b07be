"""The API's own errors — not authenticated, not allowed, a precondition missing, throttled —
in the one error catalogue (:mod:`terminology.errors`): each says its HTTP status and FHIR
issue type, and is rendered once, at the edge (:mod:`api.errors`, :mod:`api.outcome`)."""

from __future__ import annotations

from terminology.errors import ConcordanceError
from terminology.review.workflow import NotAllowed


class NotAuthenticatedError(ConcordanceError):
    code = "not-authenticated"
    http_status = 401
    fhir_issue = "login"


class ForbiddenError(NotAllowed):
    """The caller's role in the project is not enough (the workflow's own refusal, raised
    before any rule runs)."""


class PreconditionRequiredError(ConcordanceError):
    code = "precondition-required"
    http_status = 428
    fhir_issue = "required"


class ThrottledError(ConcordanceError):
    """The worker's heavy operations stayed busy for the whole wait (FHIR ``throttled``)."""

    code = "throttled"
    http_status = 503
    fhir_issue = "throttled"
