"""Bulk decisions (issue 12): ``accept-candidates`` only touches rows no curator has decided,
never the caller's own, and says what it skipped and why; a bulk decision lands whole or
not at all, even when the server is killed half-way."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import threading
import time

import httpx2 as httpx

from terminology.review.workflow import Role
from terminology.storage import curation, users
from tests.api.test_curation import World
from tests.conftest import ROOT
from tests.live_server import free_port

TAKEN, OPEN = "C02.05.03", "C02.16.02"


def bulk(world: World, name: str, **body: object) -> httpx.Response:
    return world.client.post(
        f"/api/projects/{world.project.id}/bulk-decisions", json=body, headers=world.as_(name)
    )


def test_accept_candidates_leaves_a_curators_decision_alone(world: World) -> None:
    _, etag = world.row("author", TAKEN)
    etag = world.decide("author", TAKEN, etag, action="map", targets=[{"code": "M19.07.00"}]).headers["ETag"]
    world.decide("author", TAKEN, etag, action="submit")
    done = bulk(world, "reviewer", action="accept-candidates", codes=[TAKEN, OPEN], min_score=0.0)
    assert done.status_code == 200, done.text
    assert done.json()["applied"] == [OPEN]
    skipped = {entry["source_code"]: entry["reason"] for entry in done.json()["skipped"]}
    assert set(skipped) == {TAKEN} and "author" in skipped[TAKEN] and "in_review" in skipped[TAKEN]
    kept = world.row("viewer", TAKEN)[0]["row"]
    assert kept["status"] == "in_review" and kept["targets"][0]["code"] == "M19.07.00"
    assert kept["author"] == "author"  # never replaced by "matching:..."


def test_accept_candidates_never_touches_the_callers_own_rows(world: World) -> None:
    _, etag = world.row("reviewer", TAKEN)
    world.decide("reviewer", TAKEN, etag, action="map", targets=[{"code": "M19.07.00"}])
    done = bulk(world, "reviewer", action="accept-candidates", codes=[TAKEN], min_score=0.0).json()
    assert done["applied"] == [] and "yours" in done["skipped"][0]["reason"]
    assert world.row("viewer", TAKEN)[0]["row"]["status"] == "draft"


def test_accept_candidates_skips_rows_with_a_blind_answer(world: World) -> None:
    url = f"/api/projects/{world.project.id}"
    world.client.patch(url, json={"review": "double"}, headers=world.as_("admin"))
    _, etag = world.row("author", TAKEN)
    world.decide("author", TAKEN, etag, action="map", targets=[{"code": "M19.07.00"}])
    done = bulk(world, "reviewer", action="accept-candidates", codes=[TAKEN], min_score=0.0).json()
    assert done["applied"] == [] and "answer" in done["skipped"][0]["reason"]


def test_a_bulk_without_the_role_is_refused_whole(world: World) -> None:
    denied = bulk(world, "author", action="assign", codes=[TAKEN, OPEN], assignee="author")
    assert denied.status_code == 403 and "reviewer" in denied.json()["message"]
    assert world.row("viewer", TAKEN)[0]["row"]["assignee"] is None


def send(url: str, body: dict[str, str], headers: dict[str, str]) -> None:
    """POST, not minding that the server dies before it answers."""
    with contextlib.suppress(httpx.TransportError):
        httpx.post(url, json=body, headers=headers, timeout=30)


def test_a_bulk_decision_lands_whole_or_not_at_all_when_the_server_is_killed(
    world: World, database_url: str
) -> None:
    """A real server process is killed with SIGKILL at different moments of a bulk
    assignment of all 286 rows: afterwards either every row or none carries it."""
    url = database_url
    for attempt in range(5):  # assignment goes to members only
        curator = users.ensure_user(world.store, f"curator-{attempt}")[0]
        users.add_member(world.store, world.project, curator, Role.AUTHOR)
    for attempt, delay in enumerate((0.05, 0.15, 0.3, 0.6, 1.0)):
        port = free_port()
        server = subprocess.Popen(
            [sys.executable, "-m", "uvicorn", "--factory", "api.app:create_app", "--port", str(port),
             "--log-level", "warning"],
            cwd=ROOT, env={**os.environ, "CONCORDANCE_DATABASE_URL": url},
        )  # fmt: skip
        try:
            base = f"http://127.0.0.1:{port}"
            for _ in range(200):
                try:
                    httpx.get(f"{base}/fhir/metadata", timeout=1)
                    break
                except httpx.TransportError:
                    time.sleep(0.05)
            assignee = f"curator-{attempt}"
            body = {"action": "assign", "code_from": "A", "code_to": "Z", "assignee": assignee}
            headers = world.as_("reviewer")

            target = f"{base}/api/projects/{world.project.id}/bulk-decisions"
            sender = threading.Thread(target=send, args=(target, body, headers))
            sender.start()
            time.sleep(delay)
            os.kill(server.pid, signal.SIGKILL)
            sender.join()
        finally:
            server.kill()
            server.wait(timeout=10)
        rows, _ = curation.list_rows(world.store, world.project, curation.RowQuery(limit=1000))
        carried = sum(row.assignee == assignee for row, _ in rows)
        assert carried in (0, len(rows)), f"killed after {delay} s: {carried} of {len(rows)} rows assigned"
