"""Decision files are decisions like any other (issue 26): an import goes through the rules
a curator's click goes through, from the command line's service and from the HTTP API.

* the reviewer is a project member with the reviewer role, looked up — a viewer, an
  unknown name or an empty one is refused;
* four eyes compare names after NFKC and case folding (``RUI`` is ``rui``), and a name with
  an invisible character is refused;
* a row with a pending blind answer refuses the file (and nothing leaks to a viewer);
* a decided row (draft, rejected, accepted) refuses the file unless an admin replaces it,
  which the trail records;
* one source stated twice with different authors or equivalences refuses the file, naming
  both lines; authors are printable and bounded.

All or nothing every time, on SQLite and PostgreSQL."""

from __future__ import annotations

from pathlib import Path

import pytest

from terminology.errors import ConcordanceError, SourceFileError
from terminology.review.workflow import Status
from terminology.services.decision_imports import import_decision_file
from terminology.storage import curation
from tests.api.test_blind_review import SECRET, double_review, first_answer
from tests.api.test_curation import World

CODE, OTHER = "C02.05.03", "C02.16.02"
TARGET = "C02.18.00"


def write(tmp_path: Path, rows: str) -> Path:
    path = tmp_path / "validated.csv"
    path.write_text("source_code,target_code,equivalence,author\n" + rows, encoding="utf-8")
    return path


def by_cli(world: World, path: Path, by: str, *, replace: bool = False) -> int:
    """What ``concordance decisions import PROJECT FILE --by NAME`` calls."""
    return import_decision_file(world.store, world.project, path, by=by, replace=replace)


def by_api(world: World, name: str, text: str, **params: object):  # type: ignore[no-untyped-def]
    return world.client.post(
        f"/api/projects/{world.project.id}/decision-imports",
        content=text.encode(),
        params={"name": "validated.csv", **params},
        headers={**world.as_(name), "Content-Type": "text/csv"},
    )


def statuses(world: World) -> dict[str, Status]:
    return curation.statuses(world.store, world.project, {CODE, OTHER})


HEADER = "source_code,target_code,equivalence,author\n"
GOOD = f"{CODE},{TARGET},equivalent,ana\n{OTHER},{TARGET},equivalent,ana\n"


def test_an_import_by_a_reviewer_lands_whole(world: World, tmp_path: Path) -> None:
    answer = by_api(world, "reviewer", HEADER + GOOD)
    assert answer.status_code == 200, answer.text
    assert answer.json() == {"imported": 2, "file": "validated.csv"}
    row = curation.get_row(world.store, world.project, CODE)
    assert (row.status, row.author, row.reviewer) == (Status.ACCEPTED, "ana", "reviewer")
    assert curation.history(world.store, world.project, CODE)[-1].comment == (
        "validated by ana; imported from validated.csv:2"
    )


@pytest.mark.parametrize("by", ["viewer", "author", "outsider", "ghost-nobody", "", "reviewer\u200b"])
def test_the_reviewer_is_a_member_with_the_role(world: World, tmp_path: Path, by: str) -> None:
    with pytest.raises(ConcordanceError) as refused:
        by_cli(world, write(tmp_path, GOOD), by)
    assert any(word in str(refused.value) for word in ("member", "reviewer", "empty", "invisible"))
    assert set(statuses(world).values()) == {Status.UNMAPPED}


def test_the_api_needs_the_reviewer_role(world: World) -> None:
    for name in ("viewer", "author"):
        assert by_api(world, name, HEADER + GOOD).status_code == 403
    assert by_api(world, "outsider", HEADER + GOOD).status_code in (403, 404)
    assert set(statuses(world).values()) == {Status.UNMAPPED}


@pytest.mark.parametrize("author", ["REVIEWER", "reviewer ", "Ｒｅｖｉｅｗｅｒ"])
def test_four_eyes_see_through_spellings(world: World, tmp_path: Path, author: str) -> None:
    path = write(tmp_path, f"{CODE},{TARGET},equivalent,{author}\n")
    with pytest.raises(SourceFileError, match="another reviewer must import it"):
        by_cli(world, path, "Reviewer")
    answer = by_api(world, "reviewer", HEADER + f"{CODE},{TARGET},equivalent,{author}\n")
    assert answer.status_code == 400 and "validated.csv:2" in answer.json()["message"]
    assert set(statuses(world).values()) == {Status.UNMAPPED}


@pytest.mark.parametrize(
    ("author", "message"),
    [
        ("ana\u200b", "invisible or control character (U+200B)"),
        ("a\u202eb", "invisible or control character (U+202E)"),
        ("x" * 129, "at most 128"),
    ],
)
def test_authors_are_printable_and_bounded(world: World, tmp_path: Path, author: str, message: str) -> None:
    with pytest.raises(SourceFileError) as refused:
        by_cli(world, write(tmp_path, GOOD + f"C04.00.00,{TARGET},equivalent,{author}\n"), "reviewer")
    assert (
        "validated.csv:4" in str(refused.value)
        and "author" in str(refused.value)
        and message in str(refused.value)
    )
    assert set(statuses(world).values()) == {Status.UNMAPPED}


def test_a_pending_blind_answer_refuses_the_file_and_stays_hidden(world: World, tmp_path: Path) -> None:
    double_review(world)
    first_answer(world)
    with pytest.raises(SourceFileError, match="pending blind answer") as refused:
        by_cli(world, write(tmp_path, GOOD), "reviewer")
    assert "validated.csv:2" in str(refused.value)
    answer = by_api(world, "admin", HEADER + GOOD, replace="true")
    assert answer.status_code == 400 and "pending blind answer" in answer.json()["message"]
    assert set(statuses(world).values()) == {Status.UNMAPPED}
    seen = world.client.get(
        f"/api/projects/{world.project.id}/rows/{CODE}/history", headers=world.as_("viewer")
    )
    assert SECRET not in seen.text and "sure" not in seen.text
    alone = by_cli(world, write(tmp_path, f"{OTHER},{TARGET},equivalent,ana\n"), "reviewer")
    assert alone == 1  # a row no one answered takes the import (two people vouch for it)


@pytest.mark.parametrize("how", ["draft", "rejected", "accepted"])
def test_a_decided_row_is_not_overwritten(world: World, tmp_path: Path, how: str) -> None:
    _, etag = world.row("author", CODE)
    etag = world.decide("author", CODE, etag, action="map", targets=[{"code": "C07.02.03"}]).headers["ETag"]
    if how != "draft":
        etag = world.decide("author", CODE, etag, action="submit").headers["ETag"]
        action = "reject" if how == "rejected" else "accept"
        assert world.decide("reviewer", CODE, etag, action=action, comment="checked").status_code == 200
    before = curation.get_row(world.store, world.project, CODE)
    path = write(tmp_path, GOOD)
    with pytest.raises(SourceFileError, match=f"already {before.status.value}"):
        by_cli(world, path, "reviewer")
    with pytest.raises(ConcordanceError, match="needs the role admin"):
        by_cli(world, path, "reviewer", replace=True)
    assert curation.get_row(world.store, world.project, CODE) == before
    assert statuses(world)[OTHER] == Status.UNMAPPED  # all or nothing
    assert by_cli(world, path, "admin", replace=True) == 2
    after = curation.get_row(world.store, world.project, CODE)
    assert (after.status, [t.code for t in after.targets], after.reviewer) == (
        Status.ACCEPTED,
        [TARGET],
        "admin",
    )
    events = curation.history(world.store, world.project, CODE)
    assert events[-1].action == "import-replace" and f"replaces the {before.status.value} decision" in (
        events[-1].comment or ""
    )
    assert curation.history(world.store, world.project, OTHER)[-1].action == "import"


@pytest.mark.parametrize(
    "second",
    [f"{CODE},C07.02.03,wider,eve\n", f"{CODE},{TARGET},wider,ana\n"],
    ids=["another-author", "another-equivalence"],
)
def test_contradicting_rows_refuse_the_file_naming_both_lines(
    world: World, tmp_path: Path, second: str
) -> None:
    path = write(tmp_path, f"{CODE},{TARGET},equivalent,ana\n{OTHER},{TARGET},equivalent,ana\n{second}")
    with pytest.raises(SourceFileError) as refused:
        by_cli(world, path, "reviewer")
    text = str(refused.value)
    assert "validated.csv:4" in text and "line 2" in text, text
    assert set(statuses(world).values()) == {Status.UNMAPPED}


def test_one_author_may_give_one_source_several_targets(world: World, tmp_path: Path) -> None:
    path = write(
        tmp_path, f"{CODE},{TARGET},wider,ana\n{CODE},C07.02.03,wider,ana\n{CODE},{TARGET},wider,ana\n"
    )
    assert by_cli(world, path, "reviewer") == 1
    row = curation.get_row(world.store, world.project, CODE)
    assert [t.code for t in row.targets] == [TARGET, "C07.02.03"]


@pytest.mark.parametrize(
    ("row", "field"),
    [
        (f"{CODE}\x1b[31m,{TARGET},equivalent,ana\n", "source"),
        (f"{CODE},{'C' * 257},equivalent,ana\n", "target"),
    ],
)
def test_codes_are_checked_at_their_line(world: World, tmp_path: Path, row: str, field: str) -> None:
    with pytest.raises(SourceFileError) as refused:
        by_cli(world, write(tmp_path, row), "reviewer")
    assert "validated.csv:2" in str(refused.value) and field in str(refused.value)


def test_the_api_refuses_what_is_not_utf8_or_too_big(world: World) -> None:
    answer = world.client.post(
        f"/api/projects/{world.project.id}/decision-imports",
        content=HEADER.encode() + b"\xff\xfe,x\n",
        headers={**world.as_("reviewer"), "Content-Type": "text/csv"},
    )
    assert answer.status_code == 400 and "not UTF-8" in answer.json()["message"]
    huge = world.client.post(
        f"/api/projects/{world.project.id}/decision-imports",
        content=HEADER.encode() + b"x" * (11 * 1024 * 1024),
        headers={**world.as_("reviewer"), "Content-Type": "text/csv"},
    )
    assert huge.status_code == 413
