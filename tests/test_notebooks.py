"""The analysts' notebooks: all there, committed without outputs (``make test`` runs each one
from a clean kernel through nbmake, and fails if a cell errors)."""

from __future__ import annotations

import json

import pytest

from tests.conftest import ROOT

NOTEBOOKS = ROOT / "notebooks"
EXPECTED = [
    "01_explore_code_systems.ipynb",
    "02_matching_quality.ipynb",
    "03_curation_progress.ipynb",
    "04_translate_a_dataset.ipynb",
    "05_release_impact.ipynb",
]


def test_every_notebook_is_there() -> None:
    assert sorted(path.name for path in NOTEBOOKS.glob("*.ipynb")) == EXPECTED


@pytest.mark.parametrize("name", EXPECTED)
def test_notebook_is_committed_without_outputs(name: str) -> None:
    notebook = json.loads((NOTEBOOKS / name).read_text(encoding="utf-8"))
    code = [cell for cell in notebook["cells"] if cell["cell_type"] == "code"]
    assert code, f"{name} has no code"
    stale = [
        i for i, cell in enumerate(code) if cell.get("outputs") or cell.get("execution_count") is not None
    ]
    assert stale == [], f"{name}: cells {stale} carry outputs; clear them before committing"
    assert notebook["cells"][0]["cell_type"] == "markdown"  # each opens with the question it answers
