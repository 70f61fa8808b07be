"""Four eyes hold for co-authors (issue 12): a double-review row answered alike by two
authors lists both as its authors, and neither may accept it — on the single path, in bulk,
or through a decisions import."""

from __future__ import annotations

import pytest

from terminology.review.workflow import Role
from terminology.storage import curation, users
from tests.api.test_blind_review import double_review
from tests.api.test_curation import World

CODE = "C02.05.03"


def agreed_row(world: World) -> str:
    """Both authors answer C02.18.00; the row goes to review. Returns its ETag."""
    double_review(world)
    etag = ""
    for name in ("author", "author2"):
        _, etag = world.row(name, CODE)
        answered = world.decide(name, CODE, etag, action="map", targets=[{"code": "C02.18.00"}])
        assert answered.status_code == 200, answered.text
        etag = answered.headers["ETag"]
    return etag


def test_authors_are_stored_as_a_list(world: World) -> None:
    agreed_row(world)
    row = curation.get_row(world.store, world.project, CODE)
    assert row.status.value == "in_review" and row.authors == ("author", "author2")
    public = world.row("viewer", CODE)[0]["row"]
    assert public["authors"] == ["author", "author2"]


def test_neither_co_author_may_accept(world: World) -> None:
    agreed_row(world)
    for name in ("author", "author2"):  # promoted to reviewers, they still authored the row
        user = users.find_user(world.store, name)
        users.add_member(world.store, world.project, user, Role.REVIEWER)
        _, etag = world.row(name, CODE)
        refused = world.decide(name, CODE, etag, action="accept")
        assert refused.status_code == 403 and "authored" in refused.json()["message"], refused.text
        bulk = world.client.post(
            f"/api/projects/{world.project.id}/bulk-decisions",
            json={"action": "accept", "codes": [CODE]},
            headers=world.as_(name),
        ).json()
        assert bulk["applied"] == [] and "authored" in bulk["skipped"][0]["reason"]
    _, etag = world.row("reviewer", CODE)
    accepted = world.decide("reviewer", CODE, etag, action="accept")
    assert accepted.status_code == 200 and accepted.json()["row"]["status"] == "accepted"


def test_an_admin_who_authored_a_row_cannot_accept_it_either(world: World) -> None:
    _, etag = world.row("admin", CODE)
    etag = world.decide("admin", CODE, etag, action="map", targets=[{"code": "C02.18.00"}]).headers["ETag"]
    etag = world.decide("admin", CODE, etag, action="submit").headers["ETag"]
    refused = world.decide("admin", CODE, etag, action="accept")
    assert refused.status_code == 403 and "authored" in refused.json()["message"]


def test_the_python_api_decides_under_the_same_rules_as_the_http_api(world: World) -> None:
    """A notebook's decisions go through the curation service: the same four-eyes refusal,
    word for word, as the page's, and the same audit trail as a curator's."""
    from terminology import Concordance
    from terminology.review.workflow import NotAllowed

    notebook = Concordance(world.store)
    assert notebook.decide(world.project.id, CODE, "map", by="admin", targets=["C02.18.00"]) == "draft"
    assert notebook.decide(world.project.id, CODE, "submit", by="ADMIN ") == "in_review"  # the member's key
    with pytest.raises(NotAllowed) as refused:
        notebook.decide(world.project.id, CODE, "accept", by="admin")
    _, etag = world.row("admin", CODE)
    http = world.decide("admin", CODE, etag, action="accept")
    assert http.status_code == 403 and http.json()["message"] == str(refused.value)
    assert "authored" in str(refused.value)
    with pytest.raises(NotAllowed):  # a viewer may not decide, on any path
        notebook.decide(world.project.id, CODE, "accept", by="viewer")
    trail = world.client.get(
        f"/api/projects/{world.project.id}/rows/{CODE}/history", headers=world.as_("admin")
    ).json()
    assert [(e["actor"], e["action"]) for e in trail] == [("admin", "map"), ("admin", "submit")]
    assert trail[0]["after"]["updated_by"] == "admin" and trail[1]["before"]["version"] == 2
    accepted = notebook.decide(world.project.id, CODE, "accept", by="reviewer")
    assert accepted == "accepted"
