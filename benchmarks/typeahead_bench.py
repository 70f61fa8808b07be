"""Type-ahead ``ValueSet/$expand?filter=`` over CIM-11 FR (36,044 concepts), against the
framework's own ceiling, in one run.

Usage: ``python benchmarks/typeahead_bench.py [--seconds 10] [--connections 4]`` (needs
``wrk``: ``apt-get install wrk``)

The bundled CIM-11 MMS (French and English labels) is imported into a fresh SQLite
database. The real server (``uvicorn --factory api.app:create_app``, one worker, as ``make
demo`` runs it) and a bare FastAPI endpoint returning a constant 10-concept expansion are
driven over loopback by the same load generator (wrk, a fixed duration after a warm-up).
Each request is what a search box sends while someone types: the code system's implicit
value set (``url=…?fhir_vs``), ``filter`` = the first 3 to 6 letters of a word of a real
label (2,000 of them, accents kept, in a fixed random order), ``count=10``, and every fifth
request the next page (``offset=10``). Target: p99 ≤ 50 ms warm (issue 15).
"""

from __future__ import annotations

import argparse
import os
import random
import re
import subprocess
import sys
import tempfile
from pathlib import Path
from urllib.parse import quote

import polars as pl

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.translate_bench import start, wrk_figures  # noqa: E402

CIM11 = ROOT / "data" / "cim11_fr" / "cim11_mms_concepts.csv"
SYSTEM = "http://id.who.int/icd/release/11/mms"
OPTIONS = {"display_column": "label_fr", "key_column": "entity_uri", "parent_column": "parent_entity_uri",
           "missing_code": "use-key", "language_columns": "en=label_en"}  # fmt: skip
"""As ``data/bundled.toml`` imports it."""
TARGET_P99_MS = 50.0

LUA = """
local texts = {}
for line in io.lines("%(texts)s") do texts[#texts + 1] = line end
local counter = 0
request = function()
  counter = counter + 1
  local text = texts[(counter %% #texts) + 1]
  local page = (counter %% 5 == 0) and "&offset=10" or ""
  return wrk.format("GET", "/fhir/ValueSet/$expand?url=%(url)s&count=10&filter=" .. text .. page)
end
"""


def typed_prefixes(count: int) -> list[str]:
    """What people type: the first 3 to 6 letters of a word (4+ letters) of real labels."""
    labels = pl.read_csv(CIM11, infer_schema=False).get_column("label_fr").drop_nulls().to_list()
    chooser = random.Random(15)
    prefixes = []
    while len(prefixes) < count:
        words = [w for w in re.findall(r"\w+", chooser.choice(labels)) if len(w) >= 4]
        if words:
            word = chooser.choice(words)
            prefixes.append(word[: chooser.randint(3, min(6, len(word)))])
    return prefixes


def measure(base: str, texts_file: Path, seconds: int, connections: int) -> dict[str, float]:
    script = texts_file.with_suffix(".lua")
    script.write_text(
        LUA % {"texts": texts_file, "url": quote(SYSTEM + "?fhir_vs", safe="")}, encoding="utf-8"
    )
    command = ["wrk", "-t2", f"-c{connections}", "-s", str(script), "--latency"]
    subprocess.run([*command, "-d6s", base], check=True, capture_output=True)  # warm-up: indexes built
    output = subprocess.run(
        [*command, f"-d{seconds}s", base], check=True, capture_output=True, text=True
    ).stdout
    if "Non-2xx" in output:
        raise RuntimeError(f"errors from the server\n{output}")
    return wrk_figures(output)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=10, help="measured load per server")
    parser.add_argument("--connections", type=int, default=4, help="people typing at once")
    args = parser.parse_args()

    from terminology.importers import importer_class
    from terminology.models import CodeSystemMetadata
    from terminology.services.importing import import_code_system
    from terminology.settings import Settings
    from terminology.storage import migrate
    from terminology.storage.database import SqlDatabase
    from terminology.storage.engine import make_engine

    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite:///{folder}/bench.db"
        engine = make_engine(Settings(database_url=url))
        migrate.upgrade(engine)
        imported = import_code_system(
            SqlDatabase(engine), importer_class("csv").with_options(OPTIONS), CIM11,
            overrides=CodeSystemMetadata(url=SYSTEM, version="2024-03", language="fr", name="CIM11"),
        ).code_system  # fmt: skip
        texts_file = Path(folder) / "typed.txt"
        texts_file.write_text("".join(quote(t) + "\n" for t in typed_prefixes(2_000)), encoding="utf-8")
        env = {**os.environ, "CONCORDANCE_DATABASE_URL": url}
        results = {}
        for name, target in (
            ("bare endpoint", "benchmarks.bare_app:create_app"),
            ("Concordance", "api.app:create_app"),
        ):
            process, base = start(target, 1, env)
            try:
                results[name] = measure(base, texts_file, args.seconds, args.connections)
            finally:
                process.terminate()
                process.wait(timeout=20)
    print(f"type-ahead $expand over {imported.concept_count:,} concepts (CIM-11 FR); wrk, "
          f"{args.connections} connections, {args.seconds} s, 1 worker")  # fmt: skip
    print(f"{'server':<14} {'req/s':>8} {'p50 ms':>7} {'p99 ms':>7} {'vs bare':>8}")
    for name, figures in results.items():
        ratio = figures["rps"] / results["bare endpoint"]["rps"]
        print(
            f"{name:<14} {figures['rps']:>8,.0f} {figures['p50']:>7.2f} {figures['p99']:>7.2f} {ratio:>7.0%}"
        )
    ok = results["Concordance"]["p99"] <= TARGET_P99_MS
    print("OK" if ok else f"FAIL: p99 must be <= {TARGET_P99_MS:.0f} ms")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
