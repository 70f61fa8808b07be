"""User names are checked as every name is (issue 26): ``concordance users add`` refuses a
name with control or invisible characters, and another spelling of an existing user's
(``RUI`` beside ``rui``), so one person never holds two accounts the review rules would
tell apart."""

from __future__ import annotations

import pytest

from tests.terminology.cli.test_main import cli_database, run  # noqa: F401 - the fixture


@pytest.mark.parametrize("spelling", ["RUI", "rui ", "Ｒｕｉ"])
def test_another_spelling_of_a_user_is_refused(
    cli_database: str,  # noqa: F811
    capsys: pytest.CaptureFixture[str],
    spelling: str,
) -> None:
    assert run(capsys, "db", "upgrade")[0] == 0
    status, out, _ = run(capsys, "users", "add", "rui")
    assert status == 0 and out.startswith("rui\tcc_")
    status, _, err = run(capsys, "users", "add", spelling)
    assert status == 1 and "another spelling of the existing user 'rui'" in err


@pytest.mark.parametrize("name", ["rui\u200b", "a\u202eb", "\u0000x", "x" * 129, "   "])
def test_a_name_that_cannot_stand_for_a_person_is_refused(
    cli_database: str,  # noqa: F811
    capsys: pytest.CaptureFixture[str],
    name: str,
) -> None:
    assert run(capsys, "db", "upgrade")[0] == 0
    status, _, err = run(capsys, "users", "add", name)
    assert status == 1 and ("user name" in err), err
