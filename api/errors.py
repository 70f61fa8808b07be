"""Domain errors become JSON ``{"code", "message"}`` responses here, and only here."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from api.outcome import FhirError, render_fhir_error
from terminology.errors import ConcordanceError
from terminology.records import StaleVersionError


def error_body(code: str, message: str, **extra: Any) -> dict[str, Any]:
    return {"code": code, "message": message, **extra}


def _render(error: ConcordanceError) -> JSONResponse:
    """An error as ``{code, message}`` with the status the catalogue gives its class."""
    extra: dict[str, Any] = {}
    headers: dict[str, str] = {}
    if isinstance(error, StaleVersionError):
        from api.schemas import RowPublic

        extra["current"] = RowPublic.of(error.current).model_dump(mode="json")
        headers["ETag"] = RowPublic.etag_of(error.current)
    if error.http_status == 401:
        headers["WWW-Authenticate"] = "Bearer"
    return JSONResponse(
        error_body(error.code, str(error), **extra), status_code=error.http_status, headers=headers
    )


def install_error_handlers(app: FastAPI) -> None:
    """One handler per family; anything else is a 500 without internals."""

    def is_fhir(request: Request) -> bool:
        return request.url.path.startswith("/fhir")

    async def domain(request: Request, error: Exception) -> JSONResponse:
        if is_fhir(request):
            return render_fhir_error(error)
        assert isinstance(error, ConcordanceError)
        return _render(error)

    async def invalid_request(request: Request, error: Exception) -> JSONResponse:
        assert isinstance(error, RequestValidationError)
        if is_fhir(request):
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
            text = f"{request.method} {request.url.path} is not supported by this server"
            return render_fhir_error(
                FhirError(status, code, text if status in (404, 405) else str(error.detail))
            )
        headers = dict(error.headers or {})
        return JSONResponse(error_body(code, str(error.detail)), status_code=status, headers=headers)

    async def unexpected(request: Request, error: Exception) -> JSONResponse:
        if is_fhir(request):
            return render_fhir_error(error)
        return JSONResponse(error_body("internal-error", "the server could not answer"), status_code=500)

    app.add_exception_handler(ConcordanceError, domain)
    app.add_exception_handler(RequestValidationError, invalid_request)
    app.add_exception_handler(StarletteHTTPException, http_error)
    app.add_exception_handler(Exception, unexpected)
