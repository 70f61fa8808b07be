"""The review page and the API answer with the browser protections (issue 12): a
Content-Security-Policy that allows only the page's own inline script and style, no
framing, no MIME sniffing, no referrer (the token travels in the page's fragment)."""

from __future__ import annotations

import base64
import hashlib
import re

from fastapi.testclient import TestClient

from api.review_page import PAGE
from tests.api.test_curation import World


def inline_hash(tag: str) -> str:
    text = PAGE.read_text(encoding="utf-8")
    body = re.search(rf"<{tag}>(.*?)</{tag}>", text, re.S)
    assert body is not None
    return "'sha256-" + base64.b64encode(hashlib.sha256(body.group(1).encode()).digest()).decode() + "'"


def test_the_review_page_has_a_strict_policy(world: World) -> None:
    client: TestClient = world.client
    page = client.get("/review")
    assert page.status_code == 200
    policy = page.headers["Content-Security-Policy"]
    assert "default-src 'none'" in policy and "frame-ancestors 'none'" in policy
    assert f"script-src {inline_hash('script')}" in policy and inline_hash("style") in policy
    assert "connect-src 'self'" in policy and "unsafe-inline" not in policy
    assert page.headers["X-Frame-Options"] == "DENY"
    assert page.headers["X-Content-Type-Options"] == "nosniff"
    assert page.headers["Referrer-Policy"] == "no-referrer"


def test_api_answers_are_not_sniffed_or_framed(world: World) -> None:
    for path in ("/fhir/metadata", f"/api/projects/{world.project.id}"):
        answer = world.client.get(path, headers=world.as_("viewer"))
        assert answer.headers["X-Content-Type-Options"] == "nosniff", path
        assert answer.headers["X-Frame-Options"] == "DENY", path
