"""Domain errors become JSON ``{"code", "message"}`` responses here, and only here."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from terminology.errors import CodeSystemNotFoundError, ConcordanceError
from terminology.review.workflow import InvalidDecision, InvalidTransition, NotAllowed
from terminology.storage.conceptmaps import ConceptMapNotFoundError
from terminology.storage.curation import (
    LastAdminError,
    NotAMemberError,
    ProjectNotFoundError,
    RowNotFoundError,
    StaleVersionError,
    UnknownUserError,
)


class NotAuthenticatedError(ConcordanceError):
    code = "not-authenticated"


class ForbiddenError(ConcordanceError):
    code = "forbidden"


class PreconditionRequiredError(ConcordanceError):
    code = "precondition-required"


STATUS: list[tuple[type[Exception], int, str]] = [
    (NotAuthenticatedError, 401, "not-authenticated"),
    (ForbiddenError, 403, "forbidden"),
    (NotAllowed, 403, "forbidden"),
    (ProjectNotFoundError, 404, "not-found"),
    (RowNotFoundError, 404, "not-found"),
    (CodeSystemNotFoundError, 404, "not-found"),
    (ConceptMapNotFoundError, 404, "not-found"),
    (UnknownUserError, 404, "unknown-user"),
    (NotAMemberError, 404, "not-found"),
    (LastAdminError, 409, "last-admin"),
    (InvalidTransition, 409, "invalid-transition"),
    (StaleVersionError, 412, "stale-version"),
    (InvalidDecision, 422, "invalid-decision"),
    (PreconditionRequiredError, 428, "precondition-required"),
]


def error_body(code: str, message: str, **extra: Any) -> dict[str, Any]:
    return {"code": code, "message": message, **extra}


def _render(error: Exception) -> JSONResponse:
    for kind, status, code in STATUS:
        if isinstance(error, kind):
            extra: dict[str, Any] = {}
            headers: dict[str, str] = {}
            if isinstance(error, StaleVersionError):
                from api.schemas import RowPublic

                extra["current"] = RowPublic.of(error.current).model_dump(mode="json")
                headers["ETag"] = RowPublic.etag_of(error.current)
            if status == 401:
                headers["WWW-Authenticate"] = "Bearer"
            return JSONResponse(error_body(code, str(error), **extra), status_code=status, headers=headers)
    return JSONResponse(error_body("bad-request", str(error)), status_code=400)


def install_error_handlers(app: FastAPI) -> None:
    """One handler per family; anything else is a 500 without internals."""

    def is_fhir(request: Request) -> bool:
        return request.url.path.startswith("/fhir")

    async def domain(request: Request, error: Exception) -> JSONResponse:
        if is_fhir(request):
            from api.fhir import render_fhir_error

            return render_fhir_error(error)
        return _render(error)

    async def invalid_request(request: Request, error: Exception) -> JSONResponse:
        assert isinstance(error, RequestValidationError)
        if is_fhir(request):
            from api.fhir import FhirError, render_fhir_error

            where = "; ".join(
                f"{'.'.join(str(p) for p in item['loc'])}: {item['msg']}" for item in error.errors()
            )
            return render_fhir_error(FhirError(400, "invalid", where))
        details = [
            {"field": ".".join(str(part) for part in item["loc"]), "message": item["msg"]}
            for item in error.errors()
        ]
        message = "; ".join(f"{d['field']}: {d['message']}" for d in details)
        return JSONResponse(error_body("invalid-request", message, details=details), status_code=422)

    async def http_error(request: Request, error: Exception) -> JSONResponse:
        """Routing errors (no such path, method not allowed) in the family's own form."""
        assert isinstance(error, StarletteHTTPException)
        status = error.status_code
        code = {404: "not-found", 405: "not-supported"}.get(status, "invalid")
        if is_fhir(request):
            from api.fhir import FhirError, render_fhir_error

            text = f"{request.method} {request.url.path} is not supported by this server"
            return render_fhir_error(
                FhirError(status, code, text if status in (404, 405) else str(error.detail))
            )
        headers = dict(error.headers or {})
        return JSONResponse(error_body(code, str(error.detail)), status_code=status, headers=headers)

    async def unexpected(request: Request, error: Exception) -> JSONResponse:
        if is_fhir(request):
            from api.fhir import render_fhir_error

            return render_fhir_error(error)
        return JSONResponse(error_body("internal-error", "the server could not answer"), status_code=500)

    app.add_exception_handler(ConcordanceError, domain)
    app.add_exception_handler(RequestValidationError, invalid_request)
    app.add_exception_handler(StarletteHTTPException, http_error)
    app.add_exception_handler(Exception, unexpected)
