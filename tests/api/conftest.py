"""The curation world (the SAMU-Hub project, one user per role) for every API test module."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from terminology.storage.store import SqlStore
from tests.api.test_curation import World, build_world


@pytest.fixture
def world(store: SqlStore, database_url: str) -> Iterator[World]:
    yield from build_world(store, database_url)


@pytest.fixture
def browser() -> Iterator[object]:
    """Debian's Chromium, headless, driven by Playwright (no browser is downloaded)."""
    from playwright.sync_api import sync_playwright

    from tests.api.test_review_page import CHROMIUM, FLAGS, chromium_or_fail

    chromium_or_fail()
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS, headless=True)
        yield launched
        launched.close()
