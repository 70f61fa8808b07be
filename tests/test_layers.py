"""The layers stay apart, checked by import-linter (``.importlinter``, also run by ``make
lint``): edges → services → storage → domain, no storage import from the edges, a domain
that imports neither services nor storage nor the web framework, review apart from
publication, no cycle between sibling packages. These tests make sure the contracts run,
hold, and can fail."""

from __future__ import annotations

import configparser
import shutil
import subprocess
import sys
from pathlib import Path

from tests.conftest import ROOT

LINT_IMPORTS = Path(sys.executable).parent / "lint-imports"
CONTRACTS = ROOT / ".importlinter"


def lint_imports(folder: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache"],
        cwd=folder,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def test_the_contracts_name_every_layer_rule() -> None:
    contracts = configparser.ConfigParser()
    contracts.read(CONTRACTS, encoding="utf-8")
    kinds = {
        section: contracts[section].get("type") for section in contracts.sections() if "contract" in section
    }
    assert set(kinds.values()) >= {"forbidden", "layers", "acyclic_siblings"}
    assert {
        "importlinter:contract:edges-call-services",
        "importlinter:contract:layers",
        "importlinter:contract:domain-pure",
        "importlinter:contract:review-apart-from-publication",
        "importlinter:contract:no-sibling-cycles",
    } <= set(kinds)


def test_every_contract_holds() -> None:
    found = lint_imports(ROOT)
    assert found.returncode == 0, found.stdout + found.stderr
    assert "0 broken" in found.stdout


def test_an_edge_importing_storage_breaks_the_contracts(tmp_path: Path) -> None:
    """A scratch copy of the code where the HTTP API reads rows from storage itself."""
    for package in ("terminology", "api"):
        shutil.copytree(ROOT / package, tmp_path / package, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(CONTRACTS, tmp_path / ".importlinter")
    deps = tmp_path / "api" / "deps.py"
    deps.write_text(deps.read_text(encoding="utf-8") + "\nfrom terminology.storage import curation  # noqa\n")
    found = lint_imports(tmp_path)
    assert found.returncode == 1
    assert "api is not allowed to import terminology.storage" in found.stdout
    assert "api.deps -> terminology.storage.curation" in found.stdout
