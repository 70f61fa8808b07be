"""Manifests are read in one place, for the command line and the Python API alike."""

from __future__ import annotations

from pathlib import Path

import pytest

from terminology.errors import SourceFileError
from terminology.services.code_systems import read_manifest
from tests.conftest import BUNDLED


def test_the_bundled_manifest_reads_whole() -> None:
    entries = read_manifest(BUNDLED / "bundled.toml")
    assert len(entries) >= 7 and all(entry.path.exists() for entry in entries)
    samu = read_manifest(BUNDLED / "bundled.toml", only=["SAMUNomenclature"])
    assert [entry.metadata.version for entry in samu] == ["1.9", "2.3"]


@pytest.mark.parametrize(
    ("text", "said"),
    [
        ('[[code_system]]\nname = "X"\npath = "x.csv"\n', "entry 1 lacks 'format'"),
        ('[[code_system]]\nformat = "csv"\n', "entry 1 lacks 'path'"),
        ("[[code_system]\n", "unreadable manifest"),
    ],
)
def test_a_bad_manifest_is_refused_naming_the_entry(tmp_path: Path, text: str, said: str) -> None:
    path = tmp_path / "m.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(SourceFileError, match=said):
        read_manifest(path)
