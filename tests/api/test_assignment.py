"""A row is assigned to a project member who can act on it (author or above), never to
free text: a non-member, a viewer, an unknown name and a name with an invisible character
are refused on one row and in bulk, and a spelling of a member's name (``AUTHOR2``,
``author2 ``) assigns that member under the name the project knows. SQLite and PostgreSQL."""

from __future__ import annotations

import pytest

from tests.api.test_curation import World

CODE = "C02.05.03"


def assign(world: World, assignee: str):  # type: ignore[no-untyped-def]
    _, etag = world.row("reviewer", CODE)
    return world.decide("reviewer", CODE, etag, action="assign", assignee=assignee)


def bulk_assign(world: World, assignee: str):  # type: ignore[no-untyped-def]
    return world.client.post(
        f"/api/projects/{world.project.id}/bulk-decisions",
        json={"action": "assign", "codes": [CODE, "C02.16.02"], "assignee": assignee},
        headers=world.as_("reviewer"),
    )


@pytest.mark.parametrize("assignee", ["outsider", "viewer", "ghost-nobody", "author2\u200b", "auth\u202eor2"])
def test_only_members_who_can_act_are_assigned(world: World, assignee: str) -> None:
    one = assign(world, assignee)
    assert one.status_code == 422, one.text
    assert (
        "member" in one.json()["message"]
        or "invisible" in one.json()["message"]
        or "viewer" in one.json()["message"]
    )
    many = bulk_assign(world, assignee)
    assert many.status_code == 422, many.text
    assert world.row("viewer", CODE)[0]["row"]["assignee"] is None


@pytest.mark.parametrize("spelling", ["AUTHOR2", "author2 ", "Author2", "ａｕｔｈｏｒ２"])
def test_a_spelling_of_a_member_assigns_that_member(world: World, spelling: str) -> None:
    answer = assign(world, spelling)
    assert answer.status_code == 200, answer.text
    assert world.row("viewer", CODE)[0]["row"]["assignee"] == "author2"
    assert bulk_assign(world, spelling).status_code == 200
    assert world.row("viewer", "C02.16.02")[0]["row"]["assignee"] == "author2"
