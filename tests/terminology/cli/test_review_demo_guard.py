"""``review-demo`` creates (or rotates) an admin and prints its token: it refuses any
database but the demo one unless told ``--force`` (issue 12)."""

from __future__ import annotations

from pathlib import Path

from tests.cli_process import concordance
from tests.conftest import ROOT

DEMO = "sqlite:///concordance.db"


def prepared(url: str, cwd: Path) -> None:
    assert concordance("db", "upgrade", database_url=url, cwd=cwd).returncode == 0


def test_review_demo_refuses_another_database(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'production.db'}"
    prepared(url, tmp_path)
    refused = concordance("review-demo", database_url=url, cwd=tmp_path)
    assert refused.returncode == 1 and "--force" in refused.stderr and "demo" in refused.stderr
    assert "token" not in refused.stdout.lower()


def test_review_demo_refuses_the_demo_file_once_real_users_are_in_it(tmp_path: Path) -> None:
    prepared(DEMO, tmp_path)
    assert concordance("users", "add", "ana@example.org", database_url=DEMO, cwd=tmp_path).returncode == 0
    refused = concordance("review-demo", database_url=DEMO, cwd=tmp_path)
    assert refused.returncode == 1 and "ana@example.org" in refused.stderr


def samu_manifest(folder: Path) -> Path:
    """The two SAMU-Hub versions of the bundled manifest (what the demo project aligns)."""
    entries = [
        f"""[[code_system]]
name = "SAMUNomenclature"
url = "urn:concordance:codesystem:samu-hub-nomenclature"
version = "{version}"
language = "fr"
format = "csv"
path = "{ROOT / "data" / "samu_nomenclature" / f"samu_nomenclature_v{version}.csv"}"
"""
        for version in ("1.9", "2.3")
    ]
    path = folder / "samu.toml"
    path.write_text("\n".join(entries), encoding="utf-8")
    return path


def test_review_demo_runs_on_the_demo_database(tmp_path: Path) -> None:
    prepared(DEMO, tmp_path)
    loaded = concordance("load", str(samu_manifest(tmp_path)), database_url=DEMO, cwd=tmp_path)
    assert loaded.returncode == 0, loaded.stderr
    done = concordance("review-demo", database_url=DEMO, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "API token for user 'demo' (admin)" in done.stdout
    again = concordance("review-demo", database_url=DEMO, cwd=tmp_path)  # make demo, run twice
    assert again.returncode == 0, again.stderr
    other = tmp_path / "elsewhere"
    other.mkdir()
    url = f"sqlite:///{other / 'concordance.db'}"
    prepared(url, other)
    assert concordance("load", str(samu_manifest(tmp_path)), database_url=url, cwd=other).returncode == 0
    forced = concordance("review-demo", "--force", database_url=url, cwd=other)
    assert forced.returncode == 0, forced.stderr
