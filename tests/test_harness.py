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
