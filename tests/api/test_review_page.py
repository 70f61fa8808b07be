"""The review page in a real headless Chromium against a real server (uvicorn on loopback).

Debian's ``chromium`` is driven by Playwright with its executable path given; no browser
is downloaded. Under CI=true a missing browser fails the run instead of skipping it.
"""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx2 as httpx
import pytest

from api.app import create_app
from terminology.review.workflow import Role
from terminology.settings import Settings
from terminology.storage import curation, migrate
from terminology.storage.database import SqlDatabase
from terminology.storage.engine import make_engine
from tests.api.test_curation import World, build_world
from tests.live_server import serving

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]


def chromium_or_fail() -> None:
    if os.path.exists(CHROMIUM):
        return
    if os.environ.get("CI") == "true":
        pytest.fail(
            f"Chromium is required for the browser tests and is not at {CHROMIUM} (.ci/run installs it)"
        )
    pytest.skip("Chromium is not installed (apt-get install chromium)")


@dataclass
class Server:
    url: str
    world: World


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    """The browser tests run on SQLite; the API tests run every case on both databases."""
    database_url = f"sqlite:///{tmp_path / 'review.db'}"
    engine = make_engine(Settings(database_url=database_url))
    migrate.upgrade(engine)
    yield from build_world(SqlDatabase(engine), database_url)
    engine.dispose()


@pytest.fixture
def server(world: World) -> Iterator[Server]:
    chromium_or_fail()
    app = create_app(Settings(database_url=str(world.store.engine.url)))
    with serving(app) as url:
        yield Server(url, world)


def wait_until(page, expression: str, timeout: float = 10.0) -> None:  # type: ignore[no-untyped-def]
    """Poll ``expression`` in the page from here: Playwright's own ``wait_for_function``
    evaluates a string inside the page, which the page's Content-Security-Policy forbids."""
    deadline = time.monotonic() + timeout
    while not page.evaluate(expression):
        if time.monotonic() > deadline:
            raise AssertionError(f"still false after {timeout} s: {expression}")
        time.sleep(0.05)


def sign_in(browser, server: Server, user: str):  # type: ignore[no-untyped-def]
    page = browser.new_page(viewport={"width": 1400, "height": 900})
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on(  # anything the page's Content-Security-Policy blocks is a bug of the page
        "console",
        lambda message: errors.append(message.text) if "Content Security Policy" in message.text else None,
    )
    page.goto(f"{server.url}/review?project={server.world.project.id}")
    page.fill("#token", server.world.tokens[user])
    page.click("#login-form button[type=submit]")
    page.wait_for_selector("#candidates tbody tr")
    page.errors = errors
    return page


def row_status(page, code: str) -> str:  # type: ignore[no-untyped-def]
    status = page.locator(f'#queue li[data-code="{code}"] .status').get_attribute("data-status")
    assert status is not None
    return status


def test_review_a_queue_with_the_keyboard(server: Server, browser) -> None:  # type: ignore[no-untyped-def]
    page = sign_in(browser, server, "author")
    assert page.locator("#queue-foot [data-total]").get_attribute("data-total") == "286"
    first = page.locator("#source-code").inner_text()
    assert first == "C02.05.03"
    assert "choisir le candidat" in page.locator("#shortcuts").inner_text()  # shortcuts are visible
    page.keyboard.press("2")
    page.wait_for_selector("#row-status[data-status=draft]")
    chosen = page.locator("#chosen [data-chosen]").first.get_attribute("data-chosen")
    second_candidate = page.locator("#candidates tbody tr").nth(1).get_attribute("data-target")
    assert chosen == second_candidate
    before = page.locator("#chosen [data-equivalence]").get_attribute("data-equivalence")
    codes = [e["code"] for e in httpx.get(f"{server.url}/api/vocabulary").json()["equivalences"]]
    assert len(codes) == 10  # the ten R4 codes come from the server
    page.keyboard.press("e")  # the next equivalence, in the server's order
    expected = codes[(codes.index(before) + 1) % len(codes)]
    wait_until(
        page, f"document.querySelector('#chosen [data-equivalence]')?.dataset.equivalence === '{expected}'"
    )
    page.keyboard.press("s")
    page.wait_for_selector("#row-status[data-status=in_review]")
    assert row_status(page, first) == "in_review"
    page.keyboard.press("j")
    wait_until(page, f"document.querySelector('#source-code').textContent !== '{first}'")
    second = page.locator("#source-code").inner_text()
    page.keyboard.press("n")  # no map
    page.wait_for_selector("#row-status[data-status=draft]")
    assert "pas de correspondance" in page.locator("#chosen").inner_text()
    page.keyboard.press("k")
    wait_until(page, f"document.querySelector('#source-code').textContent === '{first}'")
    wait_until(page, "document.querySelectorAll('#history tr').length === 3")
    history = page.locator("#history tr")
    assert [history.nth(i).get_attribute("data-action") for i in range(history.count())] == [
        "submit",
        "map",
        "map",
    ]

    reviewer = sign_in(browser, server, "reviewer")
    reviewer.locator(f'#queue li[data-code="{first}"]').click()
    wait_until(reviewer, f"document.querySelector('#source-code').textContent === '{first}'")
    reviewer.wait_for_selector("#row-status[data-status=in_review]")
    reviewer.keyboard.press("a")
    reviewer.wait_for_selector("#row-status[data-status=accepted]")
    row = curation.get_row(server.world.store, server.world.project, first)
    assert row.reviewer == "reviewer" and row.targets[0].equivalence == expected
    assert curation.get_row(server.world.store, server.world.project, second).no_map
    assert page.errors == [] and reviewer.errors == []


def test_only_reviewers_get_bulk_decisions(server: Server, browser) -> None:  # type: ignore[no-untyped-def]
    author = sign_in(browser, server, "author")
    assert author.locator("#bulk").count() == 0  # the project's allowed_actions say so
    page = sign_in(browser, server, "reviewer")
    page.click("#bulk")
    page.fill("#bulk-threshold", "0.95")
    page.select_option("#bulk-method", "code-rule")
    page.click("#bulk-preview")
    page.wait_for_selector("#bulk-outcome [data-would]")
    would = int(page.locator("#bulk-outcome [data-would]").get_attribute("data-would") or "0")
    assert would >= 5
    assert curation.status_counts(server.world.store, server.world.project)["accepted"] == 0  # a preview
    page.click("#bulk-confirm")
    page.wait_for_selector("#bulk-done [data-applied]")
    assert curation.status_counts(server.world.store, server.world.project)["accepted"] == would
    wait_until(
        page, f"document.querySelector('[data-count=accepted]')?.textContent.trim().endsWith('{would}')"
    )
    assert page.errors == []


def test_a_concurrent_edit_is_shown_not_overwritten(server: Server, browser) -> None:  # type: ignore[no-untyped-def]
    page = sign_in(browser, server, "author")
    code = page.locator("#source-code").inner_text()
    etag = httpx.get(
        f"{server.url}/api/projects/{server.world.project.id}/rows/{code}",
        headers=server.world.as_("author2"),
    ).headers["ETag"]
    meanwhile = httpx.post(
        f"{server.url}/api/projects/{server.world.project.id}/rows/{code}/decisions",
        json={"action": "no_map", "comment": "checked with the SAMU referent"},
        headers=server.world.as_("author2") | {"If-Match": etag},
    )
    assert meanwhile.status_code == 200
    page.keyboard.press("1")  # the page still holds the old version
    page.wait_for_selector("#message.error")
    message = page.locator("#message").inner_text()
    assert "author2" in message and "rien n'a été écrasé" in message
    row = curation.get_row(server.world.store, server.world.project, code)
    assert row.no_map and row.updated_by == "author2"  # the other author's decision stands
    assert "pas de correspondance" in page.locator("#chosen").inner_text()  # and the page shows it


def test_english_interface_and_target_search(server: Server, browser) -> None:  # type: ignore[no-untyped-def]
    page = sign_in(browser, server, "author")
    page.click("#lang")
    wait_until(page, "document.documentElement.lang === 'en'")
    assert "Candidates" in page.locator("#detail").inner_text()
    assert "pick candidate" in page.locator("#shortcuts").inner_text()
    assert page.locator("#row-status").inner_text() == "unmapped"  # statuses are translated too
    page.keyboard.press("/")
    page.fill("#search-text", "psychiatrique")
    page.wait_for_selector('#search-results [data-result="C02.18.00"]')
    page.select_option("#search-equivalence", "narrower")
    while page.locator("#search-results li.active").get_attribute("data-result") != "C02.18.00":
        page.keyboard.press("ArrowDown")
    page.keyboard.press("Enter")  # the keyboard picks, with the equivalence chosen
    page.wait_for_selector('#chosen [data-chosen="C02.18.00"]')
    assert page.locator("#row-status").get_attribute("data-status") == "draft"
    row = curation.get_row(
        server.world.store, server.world.project, page.locator("#source-code").inner_text()
    )
    assert [(t.code, t.equivalence) for t in row.targets] == [("C02.18.00", "narrower")]


def test_a_wrong_token_is_refused(server: Server, browser) -> None:  # type: ignore[no-untyped-def]
    page = browser.new_page()
    page.goto(f"{server.url}/review")
    page.fill("#token", "cc_wrong")
    page.click("#login-form button[type=submit]")
    page.wait_for_selector("#login-error.error")
    assert page.locator("#app").count() == 0
    assert Role.AUTHOR  # roles are what the API checks; the page only reflects them
