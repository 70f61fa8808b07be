"""Retraining is a bounded job (issue 26): one refit per project at a time across every
worker and process (the lock is a database row), run in a child process outside the
request threads, within a memory budget, followed by its job id and progress.

Two real uvicorn workers on one database (SQLite file or PostgreSQL schema), real HTTP."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta

import httpx2 as httpx
import pytest
import sqlalchemy as sa

from terminology.review.workflow import Actor, NotAllowed, Role
from terminology.services import retraining
from terminology.storage import jobs, projects
from terminology.storage.store import SqlStore
from terminology.storage.tables import RetrainJobRow
from tests.api.test_scale_out import api_process, samu_project

JOBS = RetrainJobRow.__table__  # type: ignore[attr-defined]


def follow(base: str, location: str, headers: dict[str, str], *, seconds: float = 240) -> dict:
    """Poll a refit job until it is over."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        job = httpx.get(f"{base}{location[location.index('/api/') :]}", headers=headers, timeout=10).json()
        if job["state"] != "running":
            return dict(job)
        time.sleep(0.25)
    raise AssertionError(f"{location} still running after {seconds} s")


def job_rows(store: SqlStore) -> list[dict]:
    with store.engine.connect() as connection:
        return [dict(row._mapping) for row in connection.execute(sa.select(JOBS).order_by(JOBS.c.id))]


def test_two_workers_asked_at_once_run_one_refit(store: SqlStore, database_url: str) -> None:
    project_id, tokens = samu_project(store)
    reviewer = {"Authorization": f"Bearer {tokens['reviewer']}"}
    url = f"/api/projects/{project_id}/retrain"
    with api_process(database_url) as first, api_process(database_url) as second:
        answers: list[httpx.Response] = []

        def ask(base: str) -> None:
            answers.append(httpx.post(f"{base}{url}", headers=reviewer, timeout=30))

        threads = [threading.Thread(target=ask, args=(base,)) for base in (first, second, first, second)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert [answer.status_code for answer in answers] == [202] * 4, [a.text for a in answers]
        ids = {answer.json()["job"] for answer in answers}
        assert len(ids) == 1, ids  # one job, whichever worker answered
        assert sorted(answer.json()["already_running"] for answer in answers) == [False, True, True, True]
        running = httpx.get(f"{second}{url}", headers=reviewer, timeout=10).json()
        assert running["job"] in ids and running["state"] in ("running", "done")
        done = follow(first, answers[0].headers["Location"], reviewer)
        assert done["state"] == "done", done
        assert done["sources"] == 286 and done["total"] == done["progress"] == 286 and done["decisions"] == 0
        assert done["peak_rss_mb"] and done["peak_rss_mb"] > 50
        assert len(job_rows(store)) == 1
        again = httpx.post(f"{second}{url}", headers=reviewer, timeout=30)  # over: a new one may start
        assert (
            again.status_code == 202
            and again.json()["job"] not in ids
            and not again.json()["already_running"]
        )
        assert follow(second, again.headers["Location"], reviewer)["state"] == "done"


def test_a_refit_over_its_memory_budget_is_stopped_and_says_so(store: SqlStore, database_url: str) -> None:
    project_id, tokens = samu_project(store)
    reviewer = {"Authorization": f"Bearer {tokens['reviewer']}"}
    with api_process(database_url, retrain_memory_mb="64") as base:
        started = httpx.post(f"{base}/api/projects/{project_id}/retrain", headers=reviewer, timeout=30)
        assert started.status_code == 202
        over = follow(base, started.headers["Location"], reviewer, seconds=60)
        assert over["state"] == "failed" and "over the 64 MB budget" in over["message"], over
        health = httpx.get(f"{base}/fhir/metadata", timeout=10)  # the worker itself carries on
        assert health.status_code == 200
    assert [row["running_project_id"] for row in job_rows(store)] == [None]  # the lock is released


def test_the_roles_and_the_job_ids_are_checked(store: SqlStore, database_url: str) -> None:
    project_id, tokens = samu_project(store)
    with api_process(database_url) as base:
        author = {"Authorization": f"Bearer {tokens['author']}"}
        assert httpx.post(f"{base}/api/projects/{project_id}/retrain", headers=author).status_code == 403
        reviewer = {"Authorization": f"Bearer {tokens['reviewer']}"}
        assert httpx.get(f"{base}/api/projects/{project_id}/retrain", headers=reviewer).status_code == 404
        assert httpx.get(f"{base}/api/projects/{project_id}/retrain/99", headers=reviewer).status_code == 404
        assert httpx.get(f"{base}/api/projects/{project_id}/retrain/0", headers=reviewer).status_code == 422
    assert job_rows(store) == []


def test_the_command_line_takes_the_same_lock_and_a_silent_job_is_taken_over(store: SqlStore) -> None:
    project_id, _ = samu_project(store)
    project = projects.get_project(store, project_id)
    rui = Actor(name="rui", role=Role.REVIEWER)
    with pytest.raises(NotAllowed):
        retraining.claim_retrain(store, project, Actor(name="ana", role=Role.AUTHOR), stale_after=60)
    job, new = retraining.claim_retrain(store, project, rui, stale_after=60)
    assert new
    with pytest.raises(retraining.RetrainRunningError, match=f"job {job.id}, asked by rui"):
        retraining.retrain_now(store, project)
    stale = datetime.now(UTC) - timedelta(seconds=120)  # its worker was killed: no heartbeat since
    with store.engine.begin() as connection:
        connection.execute(JOBS.update().where(JOBS.c.id == job.id).values(heartbeat_at=stale))
    report, _ = retraining.retrain_now(store, project)
    assert report.sources == 286
    states = {row["id"]: (row["state"], row["message"]) for row in job_rows(store)}
    assert states[job.id][0] == "failed" and "abandoned: no heartbeat" in states[job.id][1]
    assert [state for state, _ in states.values()].count("done") == 1
    assert jobs.running_job(store, project_id) is None
