"""``$translate`` throughput and latency against the framework's own ceiling, in one run.

Usage: ``python benchmarks/translate_bench.py [--seconds 10] [--connections 16]`` (needs ``wrk``:
``apt-get install wrk``; a Python client saturates before the server does)

A 50,000-element ConceptMap is built from real codes (ICD-10-CM 2026 → ICD-10 WHO
categories, ``wider``; CIM-10 FR → ICD-10, ``equivalent``) and published into a fresh
SQLite database. The real server (``uvicorn --factory api.app:create_app``) and a bare
FastAPI endpoint that returns a constant ``Parameters`` body are started with 1 and 2
workers each and driven over loopback by the same load generator (wrk, a fixed duration
after a warm-up, each request a different real code), GET and POST. The ratio to the bare
endpoint is what counts: both are measured on the same machine, with the same client, in
the same run.
"""

from __future__ import annotations

import argparse
import os
import random
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx2 as httpx
import polars as pl

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "data"
MAP_URL = "urn:concordance:ConceptMap:bench-icd10"
CM, WHO, FR = "http://hl7.org/fhir/sid/icd-10-cm", "http://hl7.org/fhir/sid/icd-10", "urn:cim10-fr"


def build_map(size: int) -> tuple[dict[str, Any], list[tuple[str, str]]]:
    """A ConceptMap of ``size`` elements from real codes, and the (system, code) pairs it maps."""
    cm = pl.read_csv(DATA / "icd10cm_2026" / "icd10cm_2026_concepts.csv", infer_schema=False)
    cm_codes = [code for code in cm.get_column("code").to_list() if len(code) > 3 and "-" not in code]
    fr = pl.read_csv(DATA / "cim10_fr" / "cim10_fr_concepts.csv", infer_schema=False)
    fr_codes = [code for code in fr.get_column("code").to_list() if code[0].isalpha() and "-" not in code]
    cm_codes = cm_codes[: max(size - len(fr_codes), 0)]
    groups = [
        {
            "source": CM,
            "target": WHO,
            "element": [{"code": c, "target": [{"code": c[:3], "equivalence": "wider"}]} for c in cm_codes],
        },
        {
            "source": FR,
            "target": WHO,
            "element": [
                {"code": c, "target": [{"code": c, "equivalence": "equivalent"}]}
                for c in fr_codes[: size - len(cm_codes)]
            ],
        },
    ]
    asked = [(CM, c) for c in cm_codes] + [(FR, c) for c in fr_codes[: size - len(cm_codes)]]
    resource = {
        "resourceType": "ConceptMap",
        "url": MAP_URL,
        "version": "1",
        "status": "active",
        "group": groups,
    }
    return resource, asked


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def start(target: str, workers: int, env: dict[str, str]) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "--factory", target, "--host", "127.0.0.1", "--port", str(port),
         "--workers", str(workers), "--log-level", "warning", "--no-access-log"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    for _ in range(200):
        try:
            if httpx.get(f"{base}/fhir/metadata", timeout=1).status_code == 200:
                return process, base
        except httpx.HTTPError:
            time.sleep(0.1)
    process.kill()
    raise RuntimeError(f"{target} did not start")


LUA = """
local codes = {}
for line in io.lines("%(codes)s") do codes[#codes + 1] = line end
local counter = 0
request = function()
  counter = counter + 1
  local pick = codes[(counter %% #codes) + 1]
  local system, code = pick:match("([^\t]+)\t(.+)")
  if "%(method)s" == "GET" then
    return wrk.format("GET", "/fhir/ConceptMap/$translate?url=%(url)s&system=" .. system .. "&code=" .. code)
  end
  local body = '{"resourceType":"Parameters","parameter":[{"name":"url","valueUri":"%(url)s"},' ..
    '{"name":"system","valueUri":"' .. system .. '"},{"name":"code","valueCode":"' .. code .. '"}]}'
  return wrk.format("POST", "/fhir/ConceptMap/$translate", {["Content-Type"] = "application/fhir+json"}, body)
end
"""


def _milliseconds(text: str) -> float:
    number = float(text.rstrip("msu"))
    return (
        number / 1000
        if text.endswith("us")
        else number * 1000
        if text.endswith("s") and not text.endswith("ms")
        else number
    )


def measure(base: str, method: str, codes_file: Path, seconds: int, connections: int) -> dict[str, float]:
    """Requests per second and p50 / p99 latency from wrk, after a warm-up of every worker."""
    script = codes_file.with_suffix(f".{method}.lua")
    script.write_text(LUA % {"codes": codes_file, "method": method, "url": MAP_URL}, encoding="utf-8")
    command = ["wrk", "-t2", f"-c{connections}", "-s", str(script), "--latency"]
    subprocess.run([*command, "-d2s", base], check=True, capture_output=True)  # warm-up
    output = subprocess.run(
        [*command, f"-d{seconds}s", base], check=True, capture_output=True, text=True
    ).stdout
    if "Non-2xx" in output:
        raise RuntimeError(f"{method}: errors from the server\n{output}")
    return wrk_figures(output)


def wrk_figures(output: str) -> dict[str, float]:
    """Requests per second and p50 / p99 (ms) from wrk's ``--latency`` report."""
    figures = {"rps": 0.0, "p50": 0.0, "p99": 0.0}
    for line in output.splitlines():
        parts = line.split()
        if line.startswith("Requests/sec:"):
            figures["rps"] = float(parts[1])
        elif parts[:1] in (["50%"], ["99%"]):
            figures["p" + parts[0].rstrip("%")] = _milliseconds(parts[1])
    return figures


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=10, help="measured load per scenario")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--size", type=int, default=50_000)
    args = parser.parse_args()

    from terminology.services.concept_maps import save_concept_map
    from terminology.settings import Settings
    from terminology.storage import migrate
    from terminology.storage.database import SqlDatabase
    from terminology.storage.engine import make_engine

    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite:///{folder}/bench.db"
        engine = make_engine(Settings(database_url=url))
        migrate.upgrade(engine)
        resource, asked = build_map(args.size)
        codes_file = Path(folder) / "codes.tsv"
        sample = random.Random(7).sample(asked, min(len(asked), 20_000))
        codes_file.write_text("".join(f"{system}\t{code}\n" for system, code in sample), encoding="utf-8")
        save_concept_map(SqlDatabase(engine), resource)
        elements = sum(len(group["element"]) for group in resource["group"])
        env = {**os.environ, "CONCORDANCE_DATABASE_URL": url}
        results: dict[tuple[str, int, str], dict[str, float]] = {}
        for workers in (1, 2):
            for name, target in (
                ("bare endpoint", "benchmarks.bare_app:create_app"),
                ("Concordance", "api.app:create_app"),
            ):
                process, base = start(target, workers, env)
                try:
                    for method in ("GET", "POST"):
                        results[(name, workers, method)] = measure(
                            base, method, codes_file, args.seconds, args.connections
                        )
                finally:
                    process.terminate()
                    process.wait(timeout=20)
    print(
        f"$translate on a {elements:,}-element ConceptMap; wrk, {args.connections} connections, "
        f"{args.seconds} s each"
    )
    print(
        f"{'server':<14} {'workers':>7} {'method':>6} {'req/s':>8} {'p50 ms':>7} {'p99 ms':>7} {'vs bare':>8}"
    )
    ok = True
    for (name, workers, method), figures in results.items():
        bare = results[("bare endpoint", workers, method)]["rps"]
        ratio = figures["rps"] / bare
        print(f"{name:<14} {workers:>7} {method:>6} {figures['rps']:>8,.0f} {figures['p50']:>7.2f} "
              f"{figures['p99']:>7.2f} {ratio:>7.0%}")  # fmt: skip
        if name == "Concordance" and workers == 2:
            ok = ok and ratio >= 0.5 and figures["p99"] < 10
    print("OK" if ok else "FAIL: needs >= 50% of the bare endpoint and p99 < 10 ms with 2 workers")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
