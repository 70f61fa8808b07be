"""The review page: one static file, no build step; it talks to the curation API."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import FileResponse, RedirectResponse

router = APIRouter(include_in_schema=False)
PAGE = Path(__file__).resolve().parent / "static" / "review.html"


@router.get("/")
def home() -> RedirectResponse:
    return RedirectResponse("/review")


@router.get("/review")
def review_page() -> FileResponse:
    return FileResponse(PAGE, media_type="text/html; charset=utf-8", headers={"Cache-Control": "no-cache"})
