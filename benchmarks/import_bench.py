"""Import speed and memory: Concordance against a raw loader, in the same run.

Usage: ``python benchmarks/import_bench.py [--rows 1000000] [--postgres URL]``

A synthetic local code list (code, display, parent, synonyms) is written once;
then, each in a fresh child process so peak memory is its own:

* baseline SQLite: ``csv.reader`` straight into ``executemany`` (one table, no checks);
* baseline PostgreSQL: ``COPY ... FROM STDIN (FORMAT csv)`` of the same file;
* Concordance: ``import_code_system`` (parse, validate codes, parents and cycles,
  concepts + designations + hierarchy in one transaction) on each database.

It prints rows per second, peak resident memory and the ratio to the baseline,
and exits non-zero when Concordance is under half the baseline's rate or
over 1 GB of memory.
"""

from __future__ import annotations

import argparse
import csv
import multiprocessing as mp
import random
import resource
import sqlite3
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import psycopg

DEFAULT_PG = "postgresql://postgres@127.0.0.1:5432/test"
# The baseline keeps the one guarantee any code-system table needs: a code is unique
# within its version; without it the rows are merely dumped.
KEYED_TABLE = (
    "system_id int DEFAULT 1, code text, display text, parent text, synonyms text, "
    "PRIMARY KEY (system_id, code)"
)
WORDS = [
    "glucose",
    "sodium",
    "potassium",
    "créatinine",
    "urée",
    "hémoglobine",
    "plaquettes",
    "leucocytes",
    "ferritine",
    "albumine",
    "calcium",
    "magnésium",
    "phosphore",
    "cholestérol",
    "triglycérides",
    "bilirubine",
    "sang",
    "sérum",
    "plasma",
    "urines",
    "24h",
    "dosage",
    "numération",
    "recherche",
]


def write_code_list(path: Path, rows: int, seed: int = 7) -> None:
    """A hierarchy of 1,000 roots; every other row has a parent earlier in the file."""
    rng = random.Random(seed)
    with path.open("w", encoding="utf-8", newline="") as handle:
        out = csv.writer(handle)
        out.writerow(["code", "display", "parent", "synonyms"])
        for i in range(rows):
            code = f"L{i:07d}"
            display = " ".join(rng.choices(WORDS, k=4)) + f" {i}"
            parent = f"L{rng.randrange(0, i):07d}" if i >= 1000 else ""
            synonyms = f"{WORDS[i % len(WORDS)]} {i}" if i % 10 == 0 else ""
            out.writerow([code, display, parent, synonyms])


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def baseline_sqlite(csv_path: Path, workdir: Path) -> float:
    db = sqlite3.connect(workdir / f"baseline-{uuid.uuid4().hex}.db")
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=NORMAL")
    db.execute(f"CREATE TABLE concept ({KEYED_TABLE})")
    started = time.perf_counter()
    with csv_path.open(encoding="utf-8", newline="") as handle, db:
        rows = csv.reader(handle)
        next(rows)
        db.executemany("INSERT INTO concept (code, display, parent, synonyms) VALUES (?, ?, ?, ?)", rows)
    elapsed = time.perf_counter() - started
    db.close()
    return elapsed


def baseline_postgres(csv_path: Path, pg_url: str) -> float:
    schema = f"bench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(pg_url, autocommit=True) as admin:
        admin.execute(f"CREATE SCHEMA {schema}")
    try:
        with psycopg.connect(pg_url) as conn:
            conn.execute(f"CREATE TABLE {schema}.concept ({KEYED_TABLE})")
            conn.commit()
            started = time.perf_counter()
            with (
                conn.cursor() as cur,
                cur.copy(
                    f"COPY {schema}.concept (code, display, parent, synonyms) FROM STDIN (FORMAT csv, HEADER)"
                ) as copy,
                csv_path.open("rb") as f,
            ):
                while chunk := f.read(1 << 20):
                    copy.write(chunk)
            conn.commit()
            return time.perf_counter() - started
    finally:
        with psycopg.connect(pg_url, autocommit=True) as admin:
            admin.execute(f"DROP SCHEMA {schema} CASCADE")


def concordance_import(csv_path: Path, database_url: str) -> float:
    from terminology.importers import importer_class
    from terminology.services.importing import import_code_system
    from terminology.settings import Settings
    from terminology.storage import migrate
    from terminology.storage.database import SqlDatabase
    from terminology.storage.engine import make_engine

    engine = make_engine(Settings(database_url=database_url))
    migrate.upgrade(engine)
    started = time.perf_counter()
    report = import_code_system(SqlDatabase(engine), importer_class("csv").with_options({}), csv_path)
    elapsed = time.perf_counter() - started
    assert report.code_system.concept_count == sum(1 for _ in csv_path.open()) - 1
    return elapsed


def settle_postgres() -> None:
    """Flush dirty buffers before a timed run, so no run pays for a checkpoint that an
    earlier run's writes triggered (the same for the baseline and for Concordance)."""
    with psycopg.connect(DEFAULT_PG, autocommit=True) as admin:
        admin.execute("CHECKPOINT")


def _child(target: Callable[..., float], args: tuple[object, ...], queue: mp.Queue) -> None:  # type: ignore[type-arg]
    settle_postgres()
    seconds = target(*args)
    queue.put((seconds, peak_rss_mb()))


def measure(target: Callable[..., float], *args: object) -> tuple[float, float]:
    """Run in a fresh process; return (seconds, peak RSS in MB)."""
    context = mp.get_context("spawn")
    queue = context.Queue()
    process = context.Process(target=_child, args=(target, args, queue))
    process.start()
    process.join()
    if process.exitcode == 0:
        result = queue.get(timeout=10)
    if process.exitcode:
        raise SystemExit(f"{target.__name__} failed with exit code {process.exitcode}")
    return result  # type: ignore[no-any-return]


Args = Callable[[], tuple[Any, ...]]


def best_of(repeat: int, target: Callable[..., float], make_args: Args) -> tuple[float, float]:
    """The fastest of ``repeat`` runs (each in a fresh process, on a fresh database) and
    the largest peak memory seen: the same rule for the baseline and for Concordance."""
    results = [measure(target, *make_args()) for _ in range(repeat)]
    return min(s for s, _ in results), max(mb for _, mb in results)


def with_pg_schema(pg_url: str) -> tuple[str, Callable[[], None]]:
    """A private schema for one Concordance run, dropped afterwards."""
    schema = f"bench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(pg_url, autocommit=True) as admin:
        admin.execute(f"CREATE SCHEMA {schema}")

    def drop() -> None:
        with psycopg.connect(pg_url, autocommit=True) as admin:
            admin.execute(f"DROP SCHEMA {schema} CASCADE")

    sa_url = pg_url.replace("postgresql://", "postgresql+psycopg://", 1)
    return f"{sa_url}?options=-csearch_path%3D{schema}", drop


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--postgres", default=DEFAULT_PG)
    parser.add_argument("--repeat", type=int, default=3, help="runs of each loader; the fastest counts")
    args = parser.parse_args()
    ok = True
    cleanups: list[Callable[[], None]] = []
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        csv_path = workdir / "local_codes.csv"
        write_code_list(csv_path, args.rows)
        print(f"{args.rows:,} rows, {csv_path.stat().st_size / 1e6:.0f} MB CSV, best of {args.repeat} runs\n")
        columns = ("database", "loader", "rows/s", "seconds", "peak MB", "vs baseline")
        print("{:<11} {:<12} {:>10} {:>8} {:>8} {:>12}".format(*columns))

        def pg_database() -> tuple[Any, ...]:
            url, drop = with_pg_schema(args.postgres)
            cleanups.append(drop)
            return (csv_path, url)

        def sqlite_database() -> tuple[Any, ...]:
            return (csv_path, f"sqlite:///{workdir / uuid.uuid4().hex}.db")

        runs: list[
            tuple[str, Callable[..., float], Callable[[], tuple[Any, ...]], Callable[[], tuple[Any, ...]]]
        ] = [
            ("SQLite", baseline_sqlite, lambda: (csv_path, workdir), sqlite_database),
            ("PostgreSQL", baseline_postgres, lambda: (csv_path, args.postgres), pg_database),
        ]
        try:
            for name, baseline, baseline_args, our_args in runs:
                base_s, base_mb = best_of(args.repeat, baseline, baseline_args)
                our_s, our_mb = best_of(args.repeat, concordance_import, our_args)
                ratio = base_s / our_s
                print(
                    f"{name:<11} {'baseline':<12} {args.rows / base_s:>10,.0f} {base_s:>8.2f} {base_mb:>8.0f}"
                )
                figures = f"{args.rows / our_s:>10,.0f} {our_s:>8.2f} {our_mb:>8.0f} {ratio:>11.2f}x"
                print(f"{name:<11} {'Concordance':<12} {figures}")
                ok = ok and ratio >= 0.5 and our_mb <= 1024
        finally:
            for drop in cleanups:
                drop()
    verdict = (
        "OK: at least half the baseline rate, under 1 GB"
        if ok
        else "FAIL: below half the baseline rate or over 1 GB"
    )
    print("\n" + verdict)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
