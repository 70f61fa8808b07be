"""The review page: one static file, no build step; it talks to the curation API.

It is served with a strict Content-Security-Policy: nothing loads but the page itself, its
one inline script and one inline style (allowed by their SHA-256, computed here once), and
calls to this server. The token travels in the URL fragment, which browsers never send; no
referrer is sent either.
"""

from __future__ import annotations

import base64
import hashlib
import re
from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import FileResponse, RedirectResponse

router = APIRouter(include_in_schema=False)
PAGE = Path(__file__).resolve().parent / "static" / "review.html"


def _inline_hash(text: str, tag: str) -> str:
    found = re.search(rf"<{tag}>(.*?)</{tag}>", text, re.S)
    if found is None:
        raise RuntimeError(f"the review page has no inline <{tag}>")
    return "'sha256-" + base64.b64encode(hashlib.sha256(found.group(1).encode()).digest()).decode() + "'"


def page_policy() -> str:
    """The review page's Content-Security-Policy."""
    text = PAGE.read_text(encoding="utf-8")
    return "; ".join(
        (
            "default-src 'none'",
            f"script-src {_inline_hash(text, 'script')}",
            f"style-src {_inline_hash(text, 'style')}",
            "connect-src 'self'",
            "img-src 'self' data:",
            "base-uri 'none'",
            "form-action 'none'",
            "frame-ancestors 'none'",
        )
    )


POLICY = page_policy()


@router.get("/")
def home() -> RedirectResponse:
    return RedirectResponse("/review")


@router.get("/review")
def review_page() -> FileResponse:
    headers = {
        "Cache-Control": "no-cache",
        "Content-Security-Policy": POLICY,
        "Referrer-Policy": "no-referrer",
    }
    return FileResponse(PAGE, media_type="text/html; charset=utf-8", headers=headers)
