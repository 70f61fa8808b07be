"""The review page: an HTML shell, its script and style, and one vendored UI library.

The page is built with Preact and htm, bundled into ``static/vendor/ui.mjs`` from pinned
npm packages by ``static/vendor/build.sh`` (see its README for versions, licences and the
SHA-256 a test checks). No build step runs here and nothing loads from elsewhere: hospital
networks are often offline. It is served with a strict Content-Security-Policy: scripts
and styles only from this server, no inline code, no eval, calls to this server only. The
token travels in the URL fragment, which browsers never send; no referrer is sent either.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, HTTPException
from fastapi import Path as PathParam
from fastapi.responses import FileResponse, RedirectResponse

router = APIRouter(include_in_schema=False)
STATIC = Path(__file__).resolve().parent / "static"
PAGE = STATIC / "review.html"
ASSETS = {
    "review.js": (STATIC / "review.js", "text/javascript; charset=utf-8"),
    "review.css": (STATIC / "review.css", "text/css; charset=utf-8"),
    "ui.mjs": (STATIC / "vendor" / "ui.mjs", "text/javascript; charset=utf-8"),
}
"""Everything the page loads, by name: nothing else under ``static/`` is served."""

POLICY = "; ".join(
    (
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self'",
        "connect-src 'self'",
        "img-src 'self' data:",
        "base-uri 'none'",
        "form-action 'none'",
        "frame-ancestors 'none'",
    )
)
"""The review page's Content-Security-Policy (no 'unsafe-inline', no 'unsafe-eval')."""

HEADERS = {"Cache-Control": "no-cache", "Content-Security-Policy": POLICY, "Referrer-Policy": "no-referrer"}


@router.get("/")
def home() -> RedirectResponse:
    return RedirectResponse("/review")


@router.get("/review")
def review_page() -> FileResponse:
    return FileResponse(PAGE, media_type="text/html; charset=utf-8", headers=HEADERS)


@router.get("/review/assets/{name}")
def review_asset(name: Annotated[str, PathParam(max_length=32)]) -> FileResponse:
    """The page's script, style and UI library (revalidated on each load: ETag)."""
    if name not in ASSETS:
        raise HTTPException(404, f"no review asset {name!r}")
    path, media_type = ASSETS[name]
    return FileResponse(path, media_type=media_type, headers=HEADERS)
