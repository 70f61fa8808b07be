"""Several API processes on one PostgreSQL database, as a deployment behind a reverse proxy
runs them: what is published through one worker is served by every other within 2 s.

Each worker keeps per-process caches (indexed ConceptMap versions, indexed code systems);
this test is what holds them to the database's truth. Two real uvicorn processes, real
HTTP, one real PostgreSQL schema.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager

import httpx2 as httpx
import pytest

from terminology.review.workflow import Role
from terminology.storage import users
from terminology.storage.store import SqlStore
from tests.api.test_curation import samu_review_project
from tests.conftest import ROOT
from tests.live_server import free_port

FRESH_WITHIN_SECONDS = 2.0


@contextmanager
def api_process(database_url: str, **settings: str) -> Iterator[str]:
    """``uvicorn --factory api.app:create_app`` in a process of its own (``settings``: more
    ``CONCORDANCE_*`` variables, by their lower-case name); yields its base URL."""
    port = free_port()
    env = {**os.environ, "CONCORDANCE_DATABASE_URL": database_url}
    env.update({f"CONCORDANCE_{name.upper()}": value for name, value in settings.items()})
    command = [sys.executable, "-m", "uvicorn", "--factory", "api.app:create_app", "--port", str(port)]
    process = subprocess.Popen(
        [*command, "--host", "127.0.0.1", "--log-level", "warning"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if process.poll() is not None:
                pytest.fail(f"the API process exited: {process.stderr.read() if process.stderr else ''}")
            try:
                if httpx.get(f"{base}/fhir/metadata", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.2)
        else:
            pytest.fail("the API process did not answer within 60 s")
        yield base
    finally:
        process.terminate()
        process.wait(timeout=20)


def samu_project(store: SqlStore) -> tuple[int, dict[str, str]]:
    """The SAMU-Hub 1.9 → 2.3 project with an author and a reviewer; their tokens."""
    project = samu_review_project(store)
    tokens = {}
    for role in (Role.AUTHOR, Role.REVIEWER):
        user, tokens[role.value] = users.create_user(store, role.value)
        users.add_member(store, project, user, role)
    return project.id, tokens


def accept(client: httpx.Client, project_id: int, tokens: dict[str, str], code: str, target: str) -> None:
    """An author maps and submits, a reviewer accepts: the four-eyes path, over HTTP."""
    rows = f"/api/projects/{project_id}/rows/{code}"
    author = {"Authorization": f"Bearer {tokens['author']}"}
    reviewer = {"Authorization": f"Bearer {tokens['reviewer']}"}
    etag = client.get(rows, headers=author).headers["ETag"]
    for who, decision in (
        (author, {"action": "map", "targets": [{"code": target}]}),
        (author, {"action": "submit"}),
        (reviewer, {"action": "accept"}),
    ):
        answer = client.post(f"{rows}/decisions", json=decision, headers=who | {"If-Match": etag})
        assert answer.status_code == 200, answer.text
        etag = answer.headers["ETag"]


def translated(client: httpx.Client, url: str, code: str) -> bool:
    """Whether ``$translate`` of one SAMU 1.9 code through the map ``url`` finds a target."""
    answer = client.get(
        "/fhir/ConceptMap/$translate", params={"url": url, "system": "urn:samu", "code": code}
    )
    if answer.status_code == 404:  # the map is not known to this worker (yet)
        return False
    assert answer.status_code == 200, answer.text
    result = next(p for p in answer.json()["parameter"] if p["name"] == "result")
    return bool(result["valueBoolean"])


def seconds_until(check: object, *, limit: float = 10.0) -> float:
    """How long until ``check()`` holds, polled every 50 ms (fails after ``limit``)."""
    assert callable(check)
    start = time.monotonic()
    while time.monotonic() - start < limit:
        if check():
            return time.monotonic() - start
        time.sleep(0.05)
    pytest.fail(f"not seen within {limit} s")


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_a_version_published_through_one_worker_is_served_by_the_other(
    store: SqlStore, database_url: str
) -> None:
    project_id, tokens = samu_project(store)
    with ExitStack() as stack:
        first = stack.enter_context(httpx.Client(base_url=stack.enter_context(api_process(database_url))))
        second = stack.enter_context(httpx.Client(base_url=stack.enter_context(api_process(database_url))))
        reviewer = {"Authorization": f"Bearer {tokens['reviewer']}"}

        accept(first, project_id, tokens, "C02.05.03", "C02.18.00")
        published = first.post(f"/api/projects/{project_id}/publish", headers=reviewer)
        assert published.status_code == 200, published.text
        url, version_one = published.json()["url"], published.json()["version"]
        waited = seconds_until(lambda: translated(second, url, "C02.05.03"))
        assert waited <= FRESH_WITHIN_SECONDS, f"the second worker served version 1 after {waited:.2f} s"
        assert not translated(second, url, "C02.16.02")  # not decided yet

        # The second worker has this map cached now: a new version must replace it there too.
        accept(first, project_id, tokens, "C02.16.02", "M19.07.00")
        published = first.post(f"/api/projects/{project_id}/publish", headers=reviewer)
        assert published.status_code == 200, published.text
        version_two = published.json()["version"]
        assert version_two != version_one
        waited = seconds_until(lambda: translated(second, url, "C02.16.02"))
        assert waited <= FRESH_WITHIN_SECONDS, f"the second worker served version 2 after {waited:.2f} s"
        listed = second.get("/fhir/ConceptMap", params={"url": url}).json()
        assert {entry["resource"]["version"] for entry in listed["entry"]} == {version_one, version_two}
