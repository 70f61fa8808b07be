"""Can anonymous heavy requests stall the server? (issue 12)

Starts the real server (one uvicorn worker, a subprocess) on an SQLite database holding the
bundled ICD-10-CM 2026 (47,200 concepts), then, in the same run:

1. times ``GET /fhir/metadata`` on an idle worker (the baseline);
2. sends 4 concurrent worst-case anonymous ``$expand`` requests — as many ``include`` parts
   of ICD-10-CM as the limits allow, each with a regex filter, paged — several rounds, while
   timing ``/fhir/metadata`` every 20 ms;
3. reads the worker's resident memory before and after.

Targets: metadata p99 ≤ 50 ms under load, every heavy request answered or refused within
30 s, worker memory back within 20 % of its start (measured after one warm-up expansion, so
that the start includes the per-version index the cache is meant to keep).

``--scenario retrain`` (issue 26) instead fills the database with the bundled CIM-11 FR and
CIM-10 FR, matches them into a project with the README's rule files, serves the bundled
ConceptMaps, then asks the API for a refit of that project and, while it runs, times
``/fhir/metadata`` and ``$translate`` every 20 ms against the same requests on the idle
worker. Targets: metadata p99 ≤ 50 ms, ``$translate`` p99 ≤ 10 ms; the refit's own peak
memory (its child process) is reported.

    python benchmarks/availability_bench.py [--rounds 3] [--scenario expand|retrain]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import httpx2 as httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from terminology.importers import importer_class  # noqa: E402
from terminology.models import CodeSystemMetadata  # noqa: E402
from terminology.services.importing import import_code_system  # noqa: E402
from terminology.settings import Settings  # noqa: E402
from terminology.storage import migrate  # noqa: E402
from terminology.storage.database import SqlDatabase  # noqa: E402
from terminology.storage.engine import make_engine  # noqa: E402

CM = "http://hl7.org/fhir/sid/icd-10-cm"
FHIR = {"Content-Type": "application/fhir+json"}


def load_database(path: Path) -> str:
    url = f"sqlite:///{path}"
    engine = make_engine(Settings(database_url=url))
    migrate.upgrade(engine)
    import_code_system(
        SqlDatabase(engine),
        importer_class("csv").with_options({"display_column": "label_en", "parent_column": "parent_code"}),
        ROOT / "data" / "icd10cm_2026" / "icd10cm_2026_concepts.csv",
        overrides=CodeSystemMetadata(url=CM, version="2026", language="en", name="ICD10CM"),
    )
    engine.dispose()
    return url


def worst_expand(parts: int) -> dict[str, Any]:
    """As many includes as one request may have, each the whole of ICD-10-CM through a
    regex that matches most codes, paged so that the answer itself stays small."""
    include = {"system": CM, "filter": [{"property": "code", "op": "regex", "value": "[A-Z][0-9].*"}]}
    value_set = {"resourceType": "ValueSet", "url": "urn:bench", "compose": {"include": [include] * parts}}
    return {
        "resourceType": "Parameters",
        "parameter": [{"name": "valueSet", "resource": value_set}, {"name": "count", "valueInteger": 50}],
    }


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS")


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def big_bodies(base: str) -> str:
    """8 concurrent anonymous 48 MB bodies, half declared, half streamed without a length,
    to a FHIR operation and a curation route: what each answered (or how it ended)."""
    endings: list[str] = []

    def post(path: str, streamed: bool) -> None:
        chunk = b" " * (1024 * 1024)
        content: Any = (chunk for _ in range(48)) if streamed else chunk * 48
        try:
            with httpx.Client(base_url=base, timeout=60) as own:
                endings.append(str(own.post(path, content=content, headers=FHIR).status_code))
        except httpx.TransportError:  # the server answered 413 and closed while we still sent
            endings.append("closed")

    paths = ["/fhir/ValueSet/$expand", "/api/projects/1/bulk-decisions"]
    workers = [threading.Thread(target=post, args=(paths[n % 2], n >= 4)) for n in range(8)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    return ", ".join(f"{endings.count(e)} x {e}" for e in sorted(set(endings)))


def wait_until_up(client: httpx.Client) -> None:
    """Until the server answers (20 s at most)."""
    for _ in range(100):
        try:
            client.get("/fhir/metadata")
            return
        except httpx.TransportError:
            time.sleep(0.2)


def time_metadata(client: httpx.Client, stop: threading.Event, out: list[float]) -> None:
    while not stop.is_set():
        started = time.perf_counter()
        answer = client.get("/fhir/metadata")
        out.append((time.perf_counter() - started) * 1000)
        assert answer.status_code == 200
        time.sleep(0.02)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--scenario", choices=("expand", "retrain"), default="expand")
    args = parser.parse_args()
    settings = Settings()
    if args.scenario == "retrain":
        run_retrain(args.port)
        return
    with tempfile.TemporaryDirectory() as folder:
        url = load_database(Path(folder) / "bench.db")
        env = {**os.environ, "CONCORDANCE_DATABASE_URL": url}
        server = subprocess.Popen(
            [sys.executable, "-m", "uvicorn", "--factory", "api.app:create_app", "--port", str(args.port),
             "--log-level", "warning"],
            cwd=ROOT, env=env,
        )  # fmt: skip
        try:
            run(server.pid, f"http://127.0.0.1:{args.port}", args.rounds, settings)
        finally:
            server.terminate()
            server.wait(timeout=30)


def run(pid: int, base: str, rounds: int, settings: Settings) -> None:
    with httpx.Client(base_url=base, timeout=120) as client:
        wait_until_up(client)
        cold = rss_mb(pid)
        idle: list[float] = []
        for _ in range(100):
            started = time.perf_counter()
            client.get("/fhir/metadata")
            idle.append((time.perf_counter() - started) * 1000)
        warm = client.post("/fhir/ValueSet/$expand", json=worst_expand(1), headers=FHIR)
        assert warm.status_code == 200, warm.text
        start = rss_mb(pid)

        loaded: list[float] = []
        heavy: list[tuple[int, float]] = []
        stop = threading.Event()
        timer = threading.Thread(target=time_metadata, args=(client, stop, loaded))
        timer.start()
        body = worst_expand(settings.max_value_set_parts)

        def one_heavy() -> None:
            with httpx.Client(base_url=base, timeout=120) as own:
                started = time.perf_counter()
                answer = own.post("/fhir/ValueSet/$expand", json=body, headers=FHIR)
                heavy.append((answer.status_code, time.perf_counter() - started))

        peak = start
        for _ in range(rounds):
            workers = [threading.Thread(target=one_heavy) for _ in range(4)]
            for worker in workers:
                worker.start()
            while any(worker.is_alive() for worker in workers):
                peak = max(peak, rss_mb(pid))
                time.sleep(0.1)
        bodies = big_bodies(base)
        peak = max(peak, rss_mb(pid))
        stop.set()
        timer.join()
        time.sleep(1.0)
        end = rss_mb(pid)

    statuses = sorted({status for status, _ in heavy})
    slowest = max(seconds for _, seconds in heavy)
    p99 = percentile(loaded, 0.99)
    print(f"worst-case $expand: {settings.max_value_set_parts} includes of ICD-10-CM (47,200 concepts) "
          f"with a regex filter, 4 at once x {rounds} rounds; heavy_operations={settings.heavy_operations}, "
          f"operation_seconds={settings.operation_seconds:g}")  # fmt: skip
    print("| measure | idle (baseline) | under load | ratio | target |")
    print("|---|---:|---:|---:|---|")
    print(f"| /fhir/metadata p50 ms | {statistics.median(idle):.1f} | {statistics.median(loaded):.1f} | "
          f"{statistics.median(loaded) / statistics.median(idle):.1f}x | |")  # fmt: skip
    print(f"| /fhir/metadata p99 ms | {percentile(idle, 0.99):.1f} | {p99:.1f} | "
          f"{p99 / percentile(idle, 0.99):.1f}x | <= 50 ms |")  # fmt: skip
    print(f"| /fhir/metadata max ms | {max(idle):.1f} | {max(loaded):.1f} | | |")
    print(f"| heavy requests | | {len(heavy)} answered {statuses}, slowest {slowest:.1f} s | | <= 30 s |")
    print(f"| 8 x 48 MB anonymous POSTs | | {bodies} | | 413 |")
    print(f"| worker RSS MB | {start:.0f} (cold {cold:.0f}) | peak {peak:.0f}, after {end:.0f} | "
          f"{end / start:.2f}x | <= 1.20x |")  # fmt: skip
    met = p99 <= 50 and slowest <= 30 and end <= 1.2 * start and len(heavy) == 4 * rounds
    print("targets met" if met else "TARGETS MISSED")


def load_cim11_project(path: Path) -> tuple[str, int, str, dict[str, str]]:
    """CIM-11 FR → CIM-10 FR matched with the README's rule files (the demo's large project),
    a reviewer, and the bundled ConceptMaps; the database URL, the project id, the reviewer's
    token and one ``$translate`` question."""
    from terminology import Concordance
    from terminology.cli.curation import SCALE_PROJECT
    from terminology.review.workflow import Role
    from terminology.services.projects import find_project
    from terminology.services.users import add_member
    from terminology.storage import users

    url = f"sqlite:///{path}"
    engine = make_engine(Settings(database_url=url))
    migrate.upgrade(engine)
    engine.dispose()
    concordance = Concordance.open(url)
    concordance.load(only=["CIM10FR", "CIM11MMSFR"])
    rules = ROOT / "mapping_rules" / "rules"
    concordance.match(
        "http://id.who.int/icd/release/11/mms",
        "urn:concordance:codesystem:cim10-fr-gnuhealth",
        rules=[
            rules / name
            for name in ("icd10_editions.yaml", "cim11_cim10_chapters.yaml", "cim11_cim10_labels.yaml")
        ],
        top_k=5,
        project=SCALE_PROJECT,
    )
    project = find_project(concordance.store, SCALE_PROJECT)
    _, token = users.create_user(concordance.store, "reviewer")
    add_member(concordance.store, project, "reviewer", Role.REVIEWER)
    maps = concordance.load_bundled_maps()
    first = maps.row(0, named=True)
    element = concordance.concept_map(first["url"]).row(0, named=True)
    question = {"url": first["url"], "system": element["source_system"], "code": element["source_code"]}
    return url, project.id, token, question


def time_requests(
    client: httpx.Client, question: dict[str, str], stop: threading.Event
) -> tuple[list[float], list[float]]:
    """Alternate ``/fhir/metadata`` and ``$translate`` every 20 ms until ``stop``: their times in ms."""
    metadata: list[float] = []
    translate: list[float] = []
    while not stop.is_set():
        for path, params, out in (
            ("/fhir/metadata", None, metadata),
            ("/fhir/ConceptMap/$translate", question, translate),
        ):
            started = time.perf_counter()
            answer = client.get(path, params=params)
            out.append((time.perf_counter() - started) * 1000)
            assert answer.status_code == 200, answer.text
            time.sleep(0.02)
    return metadata, translate


def run_retrain(port: int) -> None:
    with tempfile.TemporaryDirectory() as folder:
        started = time.perf_counter()
        url, project_id, token, question = load_cim11_project(Path(folder) / "bench.db")
        print(f"setup (imports and the first match): {time.perf_counter() - started:.0f} s")
        env = {**os.environ, "CONCORDANCE_DATABASE_URL": url}
        server = subprocess.Popen(
            [sys.executable, "-m", "uvicorn", "--factory", "api.app:create_app", "--port", str(port),
             "--log-level", "warning"],
            cwd=ROOT, env=env,
        )  # fmt: skip
        try:
            measure_retrain(server.pid, f"http://127.0.0.1:{port}", project_id, token, question)
        finally:
            server.terminate()
            server.wait(timeout=30)


def measure_retrain(pid: int, base: str, project_id: int, token: str, question: dict[str, str]) -> None:
    reviewer = {"Authorization": f"Bearer {token}"}
    with httpx.Client(base_url=base, timeout=120) as client:
        wait_until_up(client)
        stop = threading.Event()
        timer = threading.Timer(20.0, stop.set)
        timer.start()
        idle_metadata, idle_translate = time_requests(client, question, stop)
        worker_idle = rss_mb(pid)
        asked = client.post(f"/api/projects/{project_id}/retrain", headers=reviewer)
        assert asked.status_code == 202, asked.text
        location = asked.headers["Location"][asked.headers["Location"].index("/api/") :]
        stop = threading.Event()
        found: dict[str, list[float]] = {}

        def timing() -> None:
            with httpx.Client(base_url=base, timeout=120) as own:
                found["metadata"], found["translate"] = time_requests(own, question, stop)

        timer_thread = threading.Thread(target=timing)
        timer_thread.start()
        worker_peak = worker_idle
        began = time.perf_counter()
        while True:
            job = client.get(location, headers=reviewer).json()
            worker_peak = max(worker_peak, rss_mb(pid))
            if job["state"] != "running":
                break
            time.sleep(0.5)
        refit_seconds = time.perf_counter() - began
        stop.set()
        timer_thread.join()

    metadata, translate = found["metadata"], found["translate"]
    print(f"refit of CIM-11 FR → CIM-10 FR ({job['total']:,} source concepts): {job['state']} in "
          f"{refit_seconds:.0f} s, {job['decisions']} decisions; the refit's child process peaked at "
          f"{job['peak_rss_mb']:,} MB; the worker: {worker_idle:.0f} MB idle, "
          f"{worker_peak:.0f} MB at most")  # fmt: skip
    print("| request | idle p50 / p99 ms | during the refit p50 / p99 / max ms | target p99 |")
    print("|---|---:|---:|---|")
    for name, idle, loaded, target in (
        ("/fhir/metadata", idle_metadata, metadata, 50),
        ("$translate", idle_translate, translate, 10),
    ):
        print(f"| {name} | {statistics.median(idle):.1f} / {percentile(idle, 0.99):.1f} | "
              f"{statistics.median(loaded):.1f} / {percentile(loaded, 0.99):.1f} / {max(loaded):.1f} | "
              f"<= {target} ms |")  # fmt: skip
    met = job["state"] == "done" and percentile(metadata, 0.99) <= 50 and percentile(translate, 0.99) <= 10
    print("targets met" if met else "TARGETS MISSED")


if __name__ == "__main__":
    main()
