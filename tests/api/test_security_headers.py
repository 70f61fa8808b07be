"""The review page and the API answer with the browser protections (issue 12): a
Content-Security-Policy that allows scripts and styles from this server only (no inline
code, no eval), no framing, no MIME sniffing, no referrer (the token travels in the
page's fragment)."""

from __future__ import annotations

import hashlib
import re

from fastapi.testclient import TestClient

from api.review_page import ASSETS, PAGE, STATIC
from tests.api.test_curation import World


def test_the_review_page_has_a_strict_policy(world: World) -> None:
    client: TestClient = world.client
    page = client.get("/review")
    assert page.status_code == 200
    policy = page.headers["Content-Security-Policy"]
    assert "default-src 'none'" in policy and "frame-ancestors 'none'" in policy
    assert "script-src 'self'" in policy and "style-src 'self'" in policy
    assert "connect-src 'self'" in policy and "unsafe-inline" not in policy and "unsafe-eval" not in policy
    assert page.headers["X-Frame-Options"] == "DENY"
    assert page.headers["X-Content-Type-Options"] == "nosniff"
    assert page.headers["Referrer-Policy"] == "no-referrer"
    html = PAGE.read_text(encoding="utf-8")
    assert not re.search(r"<script>|<style>|\sstyle=|\son\w+=", html)  # nothing inline for the CSP to allow


def test_the_page_loads_only_its_own_assets(world: World) -> None:
    for name, (_, media_type) in ASSETS.items():
        answer = world.client.get(f"/review/assets/{name}")
        assert answer.status_code == 200 and answer.headers["content-type"] == media_type, name
        assert (
            answer.headers["Content-Security-Policy"]
            and answer.headers["X-Content-Type-Options"] == "nosniff"
        )
    for name in ("review.html", "..%2Fapp.py", "vendor", "build.sh"):
        assert world.client.get(f"/review/assets/{name}").status_code == 404, name
    script = (STATIC / "review.js").read_text(encoding="utf-8")
    assert "http://" not in script.replace("http://127.0.0.1", "") and "https://" not in script  # no CDN


def test_the_vendored_ui_library_is_the_one_recorded() -> None:
    """ui.mjs is built from pinned packages by vendor/build.sh; its README records the hash."""
    readme = (STATIC / "vendor" / "README.md").read_text(encoding="utf-8")
    digest = hashlib.sha256((STATIC / "vendor" / "ui.mjs").read_bytes()).hexdigest()
    assert digest in readme
    for pin in ("preact@10.29.8", "htm@3.1.1"):
        assert pin in readme
    bundle = (STATIC / "vendor" / "ui.mjs").read_text(encoding="utf-8")
    assert "eval(" not in bundle and "new Function" not in bundle  # the CSP forbids both


def test_api_answers_are_not_sniffed_or_framed(world: World) -> None:
    for path in ("/fhir/metadata", f"/api/projects/{world.project.id}"):
        answer = world.client.get(path, headers=world.as_("viewer"))
        assert answer.headers["X-Content-Type-Options"] == "nosniff", path
        assert answer.headers["X-Frame-Options"] == "DENY", path


def test_api_answers_are_never_stored(world: World) -> None:
    """Rows, decisions and comments are private to a project's members: no cache may keep
    them, whatever the route, its status or the caller."""
    project = world.project.id
    for path, headers in (
        (f"/api/projects/{project}", world.as_("viewer")),
        (f"/api/projects/{project}/rows", world.as_("viewer")),
        (f"/api/projects/{project}", {}),  # refused: 401
        ("/api/projects/999999", world.as_("viewer")),  # unknown: 404
    ):
        answer = world.client.get(path, headers=headers)
        assert answer.headers.get_list("Cache-Control") == ["no-store"], (path, answer.status_code)
    assert "no-store" not in world.client.get("/fhir/metadata").headers.get("Cache-Control", "")
