"""The routes the review page works from at scale: queue filters with counts, a row's
position, hierarchy neighbourhoods, progress, members, the vocabulary, undo and bulk
preview / undo. Roles hold on each; bad input is a 4xx with a message."""

from __future__ import annotations

from tests.api.test_curation import World


def path(world: World, rest: str = "") -> str:
    return f"/api/projects/{world.project.id}{rest}"


def test_the_vocabulary_is_the_domain_s(world: World) -> None:
    answer = world.client.get("/api/vocabulary")
    assert answer.status_code == 200
    body = answer.json()
    assert len(body["equivalences"]) == 10 and {"fr", "en"} <= set(body["equivalences"][0])
    assert {s["code"] for s in body["statuses"]} == {
        "unmapped",
        "draft",
        "in_review",
        "accepted",
        "rejected",
        "conflict",
    }
    needs = {a["code"] for a in body["actions"] if a["needs_comment"]}
    assert needs == {"reject", "flag"}


def test_queue_counts_position_and_members(world: World) -> None:
    page = world.client.get(
        path(world, "/rows"), params={"method": "code-rule", "limit": 5}, headers=world.as_("viewer")
    )
    assert page.status_code == 200
    body = page.json()
    assert 0 < body["total"] < 286 and sum(body["counts"].values()) == body["total"]
    last = world.client.get(
        path(world, "/rows"),
        params={"method": "code-rule", "limit": 1, "offset": body["total"] - 1},
        headers=world.as_("viewer"),
    ).json()["items"][0]["source_code"]
    where = world.client.get(
        path(world, "/position"), params={"method": "code-rule", "code": last}, headers=world.as_("viewer")
    )
    assert where.json() == {"code": last, "position": body["total"] - 1}
    missing = world.client.get(path(world, "/position"), params={"code": "NOPE"}, headers=world.as_("viewer"))
    assert missing.status_code == 404
    unassigned = world.client.get(
        path(world, "/rows"), params={"unassigned": True}, headers=world.as_("viewer")
    )
    assert unassigned.json()["total"] == 286
    members = world.client.get(path(world, "/members"), headers=world.as_("author")).json()
    assert {"name": "reviewer", "role": "reviewer"} in members
    assert world.client.get(path(world, "/members"), headers=world.as_("outsider")).status_code == 403
    assert (
        world.client.get(
            path(world, "/rows"), params={"sort": "nonsense"}, headers=world.as_("viewer")
        ).status_code
        == 422
    )


def test_concepts_and_progress(world: World) -> None:
    around = world.client.get(path(world, "/concepts/target/C02.18.00"), headers=world.as_("viewer"))
    assert around.status_code == 200 and around.json()["code"] == "C02.18.00"
    assert (
        world.client.get(
            path(world, "/concepts/elsewhere/C02.18.00"), headers=world.as_("viewer")
        ).status_code
        == 422
    )
    assert (
        world.client.get(path(world, "/concepts/target/NOPE"), headers=world.as_("viewer")).status_code == 404
    )
    assert world.client.get(path(world, "/concepts/target/C02.18.00")).status_code == 401
    progress = world.client.get(path(world, "/progress"), headers=world.as_("viewer")).json()
    assert progress["total"] == 286 and progress["decided"] == 0


def test_undo_over_http_keeps_four_eyes(world: World) -> None:
    code = "C02.05.03"
    _, etag = world.row("author", code)
    assert (
        world.decide("author", code, etag, action="map", targets=[{"code": "C02.18.00"}]).status_code == 200
    )
    detail, etag = world.row("author", code)
    assert "undo" in detail["allowed_actions"]
    other, _ = world.row("author2", code)
    assert "undo" not in other["allowed_actions"]  # not their change
    refused = world.client.post(
        path(world, f"/rows/{code}/undo"), headers=world.as_("author2") | {"If-Match": etag}
    )
    assert refused.status_code == 403
    assert (
        world.client.post(path(world, f"/rows/{code}/undo"), headers=world.as_("author")).status_code == 428
    )
    undone = world.client.post(
        path(world, f"/rows/{code}/undo"), headers=world.as_("author") | {"If-Match": etag}
    )
    assert undone.status_code == 200 and undone.json()["row"]["status"] == "unmapped"
    stale = world.client.post(
        path(world, f"/rows/{code}/undo"), headers=world.as_("author") | {"If-Match": etag}
    )
    assert stale.status_code == 412


def test_bulk_preview_and_undo_over_http(world: World) -> None:
    body = {"action": "accept-candidates", "min_score": 0.95, "method": "code-rule"}
    assert (
        world.client.post(
            path(world, "/bulk-decisions"), params={"preview": True}, json=body, headers=world.as_("author")
        ).status_code
        == 403
    )
    preview = world.client.post(
        path(world, "/bulk-decisions"), params={"preview": True}, json=body, headers=world.as_("reviewer")
    )
    assert preview.status_code == 200 and preview.json()["preview"] and preview.json()["batch"] is None
    would = preview.json()["applied"]
    assert world.client.get(path(world), headers=world.as_("viewer")).json()["counts"]["accepted"] == 0
    done = world.client.post(path(world, "/bulk-decisions"), json=body, headers=world.as_("reviewer")).json()
    assert done["applied"] == would and len(done["batch"]) == 32
    assert (
        world.client.post(
            path(world, f"/bulk-decisions/{done['batch']}/undo"), headers=world.as_("author2")
        ).status_code
        == 403
    )
    assert (
        world.client.post(
            path(world, "/bulk-decisions/not-a-batch/undo"), headers=world.as_("reviewer")
        ).status_code
        == 422
    )
    assert (
        world.client.post(
            path(world, f"/bulk-decisions/{'0' * 32}/undo"), headers=world.as_("reviewer")
        ).status_code
        == 404
    )
    undone = world.client.post(
        path(world, f"/bulk-decisions/{done['batch']}/undo"), headers=world.as_("reviewer")
    )
    assert undone.status_code == 200 and sorted(undone.json()["applied"]) == sorted(would)
    assert world.client.get(path(world), headers=world.as_("viewer")).json()["counts"]["accepted"] == 0
