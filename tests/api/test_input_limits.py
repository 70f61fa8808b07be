"""What curators send is bounded and checked (issue 12): comments have a length limit,
names and codes carry no control characters, and a target code must be a code of the
project's target system — on single decisions and in bulk."""

from __future__ import annotations

import sqlalchemy as sa

from tests.api.test_curation import World

CODE = "C02.05.03"


def history_bytes(world: World) -> int:
    with world.store.engine.connect() as connection:
        return connection.execute(
            sa.text("SELECT count(*) FROM mapping_event WHERE project_id = :p"), {"p": world.project.id}
        ).scalar_one()


def test_a_comment_over_the_limit_is_refused_and_nothing_is_recorded(world: World) -> None:
    _, etag = world.row("author", CODE)
    before = history_bytes(world)
    long = world.decide("author", CODE, etag, action="comment", comment="x" * 10_001)
    assert long.status_code == 422 and "comment" in long.json()["message"]
    assert history_bytes(world) == before
    fits = world.decide("author", CODE, etag, action="comment", comment="x" * 10_000)
    assert fits.status_code == 200
    bulk = world.client.post(
        f"/api/projects/{world.project.id}/bulk-decisions",
        json={"action": "flag", "codes": [CODE], "comment": "y" * 10_001},
        headers=world.as_("reviewer"),
    )
    assert bulk.status_code == 422


def test_control_characters_are_refused_in_names_and_codes(world: World) -> None:
    _, etag = world.row("reviewer", CODE)
    for assignee in ("ana\x00", "ana\nrui", "\x1b[31mana"):
        answer = world.decide("reviewer", CODE, etag, action="assign", assignee=assignee)
        assert answer.status_code == 422, assignee
    for code in ("C02.18.00\x00", "C02\t18"):
        answer = world.decide("author", CODE, etag, action="map", targets=[{"code": code}])
        assert answer.status_code == 422, code
    assert world.row("viewer", CODE)[0]["row"]["version"] == 1


def test_a_target_code_must_be_in_the_target_system(world: World) -> None:
    _, etag = world.row("author", CODE)
    unknown = world.decide("author", CODE, etag, action="map", targets=[{"code": "NOT-A-CODE"}])
    assert unknown.status_code == 422 and "NOT-A-CODE" in unknown.json()["message"]
    assert "urn:samu|2.3" in unknown.json()["message"]
    known = world.decide("author", CODE, etag, action="map", targets=[{"code": "C02.18.00"}])
    assert known.status_code == 200
