"""Refit jobs: the database row that makes "one refit per project at a time" hold across
every worker and process, with the job's progress, heartbeat and outcome.

The lock is a unique column (``running_project_id``) set to the project's id while the
refit runs: a second claim fails inside the database, whichever process makes it. A job
whose heartbeat stopped (its process was killed) is taken over by the next claim.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa

from terminology.errors import ConcordanceError
from terminology.records import JobState, RetrainJob, RetrainJobNotFoundError
from terminology.storage.store import SqlStore
from terminology.storage.tables import RetrainJobRow

jobs = RetrainJobRow.__table__  # type: ignore[attr-defined]


def _aware(moment: datetime) -> datetime:
    """SQLite hands naive datetimes back; every stored time is UTC."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment


def _job(row: Any) -> RetrainJob:
    def aware(moment: datetime | None) -> datetime | None:  # SQLite hands naive datetimes back
        return moment.replace(tzinfo=UTC) if moment is not None and moment.tzinfo is None else moment

    return RetrainJob(
        id=row.id,
        project_id=row.project_id,
        state=row.state,
        requested_by=row.requested_by,
        started_at=_aware(row.started_at),
        heartbeat_at=_aware(row.heartbeat_at),
        finished_at=aware(row.finished_at),
        progress=row.progress,
        total=row.total,
        message=row.message,
        result=row.result,
        peak_rss_mb=row.peak_rss_mb,
    )


def claim(
    store: SqlStore, project_id: int, requested_by: str, *, stale_after: float
) -> tuple[RetrainJob, bool]:
    """A new running job for the project, or the one already running (and False). A running
    job silent for ``stale_after`` seconds is marked failed and the claim taken."""
    for _ in range(2):
        now = datetime.now(UTC)
        try:
            with store.engine.begin() as connection:
                job_id = connection.execute(
                    jobs.insert()
                    .values(
                        project_id=project_id,
                        running_project_id=project_id,
                        state="running",
                        requested_by=requested_by[:128],
                        started_at=now,
                        heartbeat_at=now,
                        progress=0,
                        total=0,
                    )
                    .returning(jobs.c.id)
                ).scalar_one()
            return get(store, project_id, job_id), True
        except sa.exc.IntegrityError:
            running = running_job(store, project_id)
            if running is None:
                continue  # it finished meanwhile: claim again
            if now - running.heartbeat_at < timedelta(seconds=stale_after):
                return running, False
            finish(
                store,
                running.id,
                "failed",
                message=f"abandoned: no heartbeat since {running.heartbeat_at.isoformat(timespec='seconds')}",
            )
    running = running_job(store, project_id)
    if running is None:  # pragma: no cover - two takeovers raced and both lost
        raise ConcordanceError("could not claim the refit; try again")
    return running, False


def running_job(store: SqlStore, project_id: int) -> RetrainJob | None:
    with store.engine.connect() as connection:
        row = connection.execute(sa.select(jobs).where(jobs.c.running_project_id == project_id)).first()
    return _job(row) if row is not None else None


def get(store: SqlStore, project_id: int, job_id: int) -> RetrainJob:
    with store.engine.connect() as connection:
        row = connection.execute(
            sa.select(jobs).where(jobs.c.id == job_id, jobs.c.project_id == project_id)
        ).first()
    if row is None:
        raise RetrainJobNotFoundError(f"no refit {job_id} in this project")
    return _job(row)


def latest(store: SqlStore, project_id: int) -> RetrainJob | None:
    with store.engine.connect() as connection:
        row = connection.execute(
            sa.select(jobs).where(jobs.c.project_id == project_id).order_by(jobs.c.id.desc()).limit(1)
        ).first()
    return _job(row) if row is not None else None


def beat(store: SqlStore, job_id: int, *, progress: int | None = None, total: int | None = None) -> None:
    """The job is alive (and how far it is)."""
    values: dict[str, Any] = {"heartbeat_at": datetime.now(UTC)}
    if progress is not None:
        values["progress"] = progress
    if total is not None:
        values["total"] = total
    with store.engine.begin() as connection:
        connection.execute(
            jobs.update().where(jobs.c.id == job_id, jobs.c.state == "running").values(**values)
        )


def finish(
    store: SqlStore,
    job_id: int,
    state: JobState,
    *,
    message: str | None = None,
    result: dict[str, Any] | None = None,
    peak_rss_mb: int | None = None,
    progress: int | None = None,
) -> None:
    """The job is over: the lock is released in the same write."""
    now = datetime.now(UTC)
    values: dict[str, Any] = {
        "state": state,
        "running_project_id": None,
        "finished_at": now,
        "heartbeat_at": now,
        "message": (message or "")[:2000] or None,
    }
    if result is not None:
        values["result"] = result
    if peak_rss_mb is not None:
        values["peak_rss_mb"] = peak_rss_mb
    if progress is not None:
        values["progress"] = progress
    with store.engine.begin() as connection:
        connection.execute(
            jobs.update().where(jobs.c.id == job_id, jobs.c.state == "running").values(**values)
        )
