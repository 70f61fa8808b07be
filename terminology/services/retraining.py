"""Refitting a project's model as a bounded job: one at a time per project across every
worker and process, outside the API's request threads, within a memory budget.

A refit re-matches the whole project (CIM-11 → CIM-10: about a minute and 2 GB). Run in
the API worker's thread pool, four concurrent requests ran four refits, two workers refit
the same project at once, and the refit's Python held the interpreter long enough to push
``/fhir/metadata`` to hundreds of milliseconds. So:

* :func:`claim_retrain` writes the job row whose unique ``running_project_id`` is the lock
  (:mod:`terminology.storage.jobs`): a second request gets the running job back;
* :class:`RetrainRunner` (the API's) runs the job in a child process — its own interpreter,
  lower CPU priority, its own thread count, its memory watched and the child stopped past
  ``Settings.retrain_memory_mb`` — and the process dies with its worker;
* :func:`retrain_now` (the command line's and the Python API's) claims the same lock and
  runs in the calling process.

``python -m terminology.services.retraining JOB`` is the child's entry point.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import resource
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING

from terminology.backends import Backends
from terminology.errors import ConcordanceError
from terminology.memory import ALLOCATOR, ALLOCATOR_SETTINGS
from terminology.records import Project, RetrainJob, RetrainJobNotFoundError
from terminology.review.workflow import RANK, Actor, NotAllowed, Role
from terminology.services.database import open_database

if TYPE_CHECKING:  # the matching stack (numba, LightGBM) loads in the refit, not in every worker
    from terminology.models import Candidate
    from terminology.services.matching import Retraining

OPERATOR = Actor(name="operator", role=Role.ADMIN)
"""Who refits from the command line or a notebook: whoever runs it, on the server's database."""


HEARTBEAT_SECONDS = 2.0
"""How often a running refit says it is alive."""


class RetrainRunningError(ConcordanceError):
    """A refit of the project is already running (the lock is taken)."""

    code = "retrain-running"
    http_status = 409
    fhir_issue = "conflict"

    def __init__(self, job: RetrainJob) -> None:
        self.job = job
        share = f"{job.progress * 100 // job.total}%" if job.total else "starting"
        super().__init__(
            f"a refit of this project is running (job {job.id}, asked by {job.requested_by} at"
            f" {job.started_at.isoformat(timespec='seconds')}, {share}); one runs at a time"
        )


def claim_retrain(
    store: Backends, project: Project, actor: Actor, *, stale_after: float
) -> tuple[RetrainJob, bool]:
    """The refit job for ``project``: a new one (True), or the one already running (False)."""
    if RANK[actor.role] < RANK[Role.REVIEWER]:
        raise NotAllowed(f"retraining needs the role reviewer; {actor.name} is {actor.role.value}")
    return store.jobs.claim(project.id, actor.name, stale_after=stale_after)


def retrain_job(store: Backends, project: Project, job_id: int) -> RetrainJob:
    """A refit of the project, as it stands."""
    return store.jobs.get(project.id, job_id)


def latest_retrain_job(store: Backends, project: Project) -> RetrainJob:
    """The project's most recent refit (running or over)."""
    found = store.jobs.latest(project.id)
    if found is None:
        raise RetrainJobNotFoundError("this project has never been refitted")
    return found


def run_job(store: Backends, job: RetrainJob) -> tuple[Retraining, list[Candidate]]:
    """Run a claimed job here: progress and heartbeat written as it goes, the outcome (or the
    error) and the peak memory at the end, the lock released whatever happens."""
    from terminology.services.matching import retrain_project

    total = store.code_system_by_id(_project(store, job).source_system_id).concept_count
    store.jobs.beat(job.id, progress=0, total=total)
    done = [0]
    last = [time.monotonic()]

    def progress(step: int) -> None:
        done[0] = min(done[0] + step, total)
        if time.monotonic() - last[0] > HEARTBEAT_SECONDS:
            last[0] = time.monotonic()
            store.jobs.beat(job.id, progress=done[0])

    try:
        with _heartbeat(store, job.id):
            report, found = retrain_project(store, job.project_id, progress=progress)
    except BaseException as error:
        store.jobs.finish(
            job.id, "failed", message=f"{type(error).__name__}: {error}", peak_rss_mb=_own_peak_mb()
        )
        raise
    store.jobs.finish(
        job.id,
        "done",
        message=f"retrained on {report.decisions:,} accepted decisions",
        result=asdict(report),
        peak_rss_mb=_own_peak_mb(),
        progress=total,
    )
    return report, found


def retrain_now(
    store: Backends, project: Project, actor: Actor = OPERATOR, *, stale_after: float = 60.0
) -> tuple[Retraining, list[Candidate]]:
    """Refit in this process (the command line, a notebook) under the same lock as the API's
    refits: :class:`RetrainRunningError` when one is running anywhere."""
    job, new = claim_retrain(store, project, actor, stale_after=stale_after)
    if not new:
        raise RetrainRunningError(job)
    return run_job(store, job)


def _project(store: Backends, job: RetrainJob) -> Project:
    return store.projects.get_project(job.project_id)


@contextlib.contextmanager
def _heartbeat(store: Backends, job_id: int) -> Iterator[None]:
    """A thread saying the job is alive while the block runs (a killed process stops it, so
    the next claim can take the job over)."""
    stop = threading.Event()

    def beat() -> None:
        while not stop.wait(HEARTBEAT_SECONDS):
            with contextlib.suppress(Exception):  # a busy database must not kill the refit
                store.jobs.beat(job_id)

    thread = threading.Thread(target=beat, name=f"retrain-{job_id}-heartbeat", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join(timeout=5)


def _own_peak_mb() -> int:
    """This process's peak resident memory (Linux reports ``ru_maxrss`` in KiB)."""
    return int(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024)


# ------------------------------------------------------------------------- the API's runner


class RetrainRunner:
    """Runs claimed refits in child processes for an API worker: at most ``workers`` at once
    (the others wait, their jobs kept alive), each child at lower CPU priority with
    ``threads`` threads, stopped when its resident memory passes ``memory_mb``."""

    def __init__(
        self, store: Backends, database_url: str, *, workers: int, memory_mb: int, threads: int
    ) -> None:
        self.store = store
        self.database_url = database_url
        self.memory_mb = memory_mb
        self.threads = threads
        self._slots = threading.Semaphore(workers)
        self._children: set[subprocess.Popen[bytes]] = set()
        self._threads: set[threading.Thread] = set()
        self._lock = threading.Lock()

    def start(self, job: RetrainJob) -> None:
        """Run ``job`` in the background; returns at once."""
        thread = threading.Thread(target=self._supervise, args=(job,), name=f"retrain-{job.id}", daemon=True)
        with self._lock:
            self._threads.add(thread)
        thread.start()

    def stop_all(self) -> None:
        """Stop every child (the worker shuts down) and wait for their supervisors: a refit
        cut short is marked failed, one that had finished keeps its outcome."""
        with self._lock:
            children, threads = list(self._children), list(self._threads)
        for child in children:
            with contextlib.suppress(ProcessLookupError):
                child.kill()
        for thread in threads:
            thread.join(timeout=10)

    def _supervise(self, job: RetrainJob) -> None:
        while not self._slots.acquire(timeout=HEARTBEAT_SECONDS):
            self.store.jobs.beat(job.id)  # waiting its turn, still alive
        try:
            self._run_child(job)
        except Exception as error:  # the job says why (if the database still answers); the worker carries on
            with contextlib.suppress(Exception):
                self.store.jobs.finish(job.id, "failed", message=f"{type(error).__name__}: {error}")
        finally:
            self._slots.release()
            with self._lock:
                self._threads.discard(threading.current_thread())

    def _run_child(self, job: RetrainJob) -> None:
        env = {
            ALLOCATOR: ALLOCATOR_SETTINGS,  # a refit peaks at what is live (terminology.memory)
            **os.environ,
            "CONCORDANCE_DATABASE_URL": self.database_url,
            **{name: str(self.threads) for name in THREAD_VARIABLES},
        }
        with tempfile.TemporaryFile() as errors:  # a file, not a pipe: a chatty child never blocks
            child = subprocess.Popen(
                [sys.executable, "-m", "terminology.services.retraining", str(job.id), str(job.project_id)],
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=errors,
            )
            with self._lock:
                self._children.add(child)
            with contextlib.suppress(OSError):
                os.setpriority(os.PRIO_PROCESS, child.pid, 10)  # requests first, the refit after
            over_budget = self._watch(child)
            child.wait()
            with self._lock:
                self._children.discard(child)
            errors.seek(0)
            error_text = errors.read()[-4000:]
        if over_budget is not None:
            self.store.jobs.finish(
                job.id,
                "failed",
                message=f"stopped: the refit used {over_budget:,} MB, over the {self.memory_mb:,} MB budget"
                " (CONCORDANCE_RETRAIN_MEMORY_MB)",
                peak_rss_mb=over_budget,
            )
        elif child.returncode != 0:
            tail = error_text.decode("utf-8", "replace").strip().splitlines()[-1:] or ["no message"]
            self.store.jobs.finish(
                job.id, "failed", message=f"the refit stopped ({child.returncode}): {tail[0]}"
            )

    def _watch(self, child: subprocess.Popen[bytes]) -> int | None:
        """Wait for the child, polling its resident memory; the MB it reached when it went
        over the budget (and was killed), else None."""
        while child.poll() is None:
            resident = _resident_mb(child.pid)
            if resident is not None and resident > self.memory_mb:
                child.kill()
                return resident
            time.sleep(0.2)
        return None


THREAD_VARIABLES = ("NUMBA_NUM_THREADS", "POLARS_MAX_THREADS", "OMP_NUM_THREADS", "RAYON_NUM_THREADS")
"""What bounds a refit's threads (numba, polars, LightGBM's OpenMP, rayon)."""


def _resident_mb(pid: int) -> int | None:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return None
    for line in status.splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) // 1024
    return None


def _die_with_parent() -> None:
    """Linux: this process is killed when the worker that started it dies, so a refit never
    outlives the lock's heartbeat (prctl PR_SET_PDEATHSIG)."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)


def main(argv: list[str]) -> int:
    """The child: run job ``argv[0]`` of project ``argv[1]`` against the configured database."""
    from terminology.settings import Settings

    _die_with_parent()
    store = open_database(Settings())
    job = store.jobs.get(int(argv[1]), int(argv[0]))
    if job.state != "running":
        return 0
    run_job(store, job)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
