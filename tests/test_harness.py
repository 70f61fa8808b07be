"""The test harness keeps its promise: in CI an unreachable PostgreSQL fails, never skips."""

from __future__ import annotations

import pytest

import tests.conftest as harness


def test_unreachable_postgres_fails_under_ci(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(harness, "POSTGRES", "postgresql://postgres@127.0.0.1:9/test")
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="required in CI"):
        harness.postgres_or_fail()


def test_unreachable_postgres_skips_outside_ci(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(harness, "POSTGRES", "postgresql://postgres@127.0.0.1:9/test")
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception, match="required when CI=true"):
        harness.postgres_or_fail()


def test_missing_chromium_fails_under_ci(monkeypatch: pytest.MonkeyPatch) -> None:
    import tests.api.test_review_page as browser_tests

    monkeypatch.setattr(browser_tests, "CHROMIUM", "/nonexistent/chromium")
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="Chromium is required"):
        browser_tests.chromium_or_fail()
    monkeypatch.delenv("CI")
    with pytest.raises(pytest.skip.Exception, match="apt-get install chromium"):
        browser_tests.chromium_or_fail()
