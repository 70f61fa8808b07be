"""The full CIM-11 FR → CIM-10 FR match with the README's rule files: time, peak memory and
warnings, beside the TF-IDF baseline over the same two systems in the same run.

Usage: ``python benchmarks/full_match_bench.py [--runs 1]``

Each run is a fresh ``concordance match`` process (the command a terminologist types) on a
database the script loads once with the two bundled systems; its wall time and peak RSS
are read from the operating system (``getrusage`` of the child), and its standard error
must be empty (no numpy or library warning). The baseline is ``quality.tfidf_top`` — every
CIM-11 concept against every CIM-10 FR concept, all labels, top 5 — run in a child process
too, so both peaks are measured alike. Targets (the matching issue): ≤ 60 s and ≤ 1.5 GB on
the project's 2-core machine.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

CIM11 = "http://id.who.int/icd/release/11/mms"
CIM10 = "urn:concordance:codesystem:cim10-fr-gnuhealth"
RULES = ["icd10_editions.yaml", "cim11_cim10_chapters.yaml", "cim11_cim10_labels.yaml"]
BASELINE = """
import sys
sys.path.insert(0, {root!r})
from benchmarks.gold_sets import Task
from benchmarks.quality import tfidf_top
from terminology.settings import Settings
from terminology.storage.engine import make_engine
from terminology.storage.store import SqlStore
from terminology.storage.database import SqlDatabase
store = SqlDatabase(make_engine(Settings(database_url={url!r})))
source, target = store.code_system({cim11!r}), store.code_system({cim10!r})
codes = store.labels_frame(source).get_column("code").unique().to_list()
found = tfidf_top(store, Task("baseline", source, target, {{code: (set(), "") for code in codes}}), 5)
print(len(found))
"""


def child(command: list[str], env: dict[str, str]) -> tuple[float, float, str, str]:
    """Run ``command``; its wall seconds, peak RSS in GB (that child's own, from ``wait4``),
    stdout and stderr."""
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        started = time.perf_counter()
        process = subprocess.Popen(command, env=env, stdout=out, stderr=err, text=True)
        _, status, usage = os.wait4(process.pid, 0)
        seconds = time.perf_counter() - started
        process.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read(), err.read()
    if process.returncode:
        raise SystemExit(f"{command[0]} failed:\n{stdout}\n{stderr}")
    return seconds, usage.ru_maxrss / 1024 / 1024, stdout, stderr


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=1)
    args = parser.parse_args()
    binary = Path(sys.executable).with_name("concordance")
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{tmp}/bench.db"
        env = {**os.environ, "CONCORDANCE_DATABASE_URL": url}
        manifest = Path(tmp) / "two.toml"
        bundled = (ROOT / "data" / "bundled.toml").read_text(encoding="utf-8")
        text = bundled.replace('path = "', f'path = "{ROOT}/data/')
        manifest.write_text(text, encoding="utf-8")
        subprocess.run([str(binary), "db", "upgrade"], env=env, check=True, capture_output=True)
        subprocess.run([str(binary), "load", str(manifest), "-q"], env=env, check=True, capture_output=True)
        rules = [item for name in RULES for item in ("--rules", str(ROOT / "mapping_rules" / "rules" / name))]
        systems = ["--source", CIM11, "--target", CIM10]
        command = [str(binary), "match", *systems, *rules, "--out", f"{tmp}/out.tsv"]
        ok = True
        for run in range(1, args.runs + 1):
            seconds, peak, out, err = child(command, env)
            print(f"run {run}: concordance match {seconds:.1f} s, peak RSS {peak:.2f} GB; {out.strip()}")
            if err.strip():
                print(f"  stderr was not empty:\n{err}")
            ok = ok and seconds <= 60 and peak <= 1.5 and not err.strip()
        script = BASELINE.format(root=str(ROOT), url=url, cim11=CIM11, cim10=CIM10)
        b_seconds, b_peak, _, _ = child([sys.executable, "-c", script], env)
        print(f"baseline (3-gram TF-IDF, every pair, top 5): {b_seconds:.1f} s, peak RSS {b_peak:.2f} GB")
        print(f"ratio Concordance / baseline: {seconds / b_seconds:.2f}× the time")
    print("OK: ≤ 60 s, ≤ 1.5 GB, no warnings" if ok else "Short of ≤ 60 s / ≤ 1.5 GB / quiet")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
