"""Whatever goes wrong, the command line says it in one ``concordance: error:`` line, never
a Python traceback (issue 12): malformed FHIR CodeSystem JSON, a folder where a file is
expected, a database that cannot be reached. Run as a terminologist runs it: a process."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.cli_process import concordance
from tests.conftest import ROOT


def one_error_line(done: subprocess.CompletedProcess[str]) -> str:
    assert done.returncode != 0, done.stdout
    assert "Traceback" not in done.stderr, done.stderr
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith("concordance: error: "), lines[0]
    return lines[0]


@pytest.fixture
def database(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    done = concordance("db", "upgrade", database_url=url, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    return url


def code_system(*concepts: Any) -> dict[str, Any]:
    return {"resourceType": "CodeSystem", "url": "urn:x", "version": "1", "content": "complete",
            "concept": list(concepts)}  # fmt: skip


MALFORMED = [
    (
        "display is an object",
        code_system({"code": "a", "display": {"text": "A"}}),
        "concept[0]: field 'display'",
    ),
    (
        "designation is a string",
        code_system({"code": "a", "designation": "A"}),
        "concept[0]: field 'designation'",
    ),
    ("code is a number", code_system({"code": 123}), "concept[0]: field 'code'"),
    (
        "property is a list of strings",
        code_system({"code": "a", "property": ["x"]}),
        "concept[0].property[0]",
    ),
]


@pytest.mark.parametrize(("case", "resource", "where"), MALFORMED, ids=[m[0] for m in MALFORMED])
def test_malformed_fhir_code_systems_name_the_element(
    database: str, tmp_path: Path, case: str, resource: dict[str, Any], where: str
) -> None:
    path = tmp_path / "cs.json"
    path.write_text(json.dumps(resource), encoding="utf-8")
    line = one_error_line(concordance("import", "fhir", str(path), "-q", database_url=database, cwd=tmp_path))
    assert "cs.json" in line and where in line, f"{case}: {line}"
    if case == "code is a number":
        assert "string" in line and "without a code" not in line


def test_a_code_system_nested_too_deep_is_one_line(database: str, tmp_path: Path) -> None:
    path = tmp_path / "deep.json"  # concepts inside concepts, 950 levels
    concepts = "".join(f'{{"code": "c{n}", "concept": [' for n in range(950)) + "]}" * 950
    path.write_text(f'{{"resourceType": "CodeSystem", "url": "urn:x", "concept": [{concepts}]}}')
    deeper = tmp_path / "deeper.json"
    deeper.write_text('{"resourceType": "CodeSystem", "concept": ' + "[" * 5000 + "]" * 5000 + "}")
    for file in (path, deeper):
        line = one_error_line(
            concordance("import", "fhir", str(file), "-q", database_url=database, cwd=tmp_path)
        )
        assert file.name in line and "deep" in line, line


def test_a_folder_where_a_file_is_expected(database: str, tmp_path: Path) -> None:
    folder = tmp_path / "lists"
    (folder / "inner").mkdir(parents=True)
    (folder / "a.csv").write_text("code,display\nA,Alpha\n", encoding="utf-8")
    line = one_error_line(
        concordance("import", "csv", str(folder), "-q", database_url=database, cwd=tmp_path)
    )
    assert "lists" in line and "folder" in line


def test_an_unreachable_database(tmp_path: Path) -> None:
    url = "postgresql+psycopg://nobody@127.0.0.1:1/none?connect_timeout=2"
    line = one_error_line(concordance("systems", database_url=url, cwd=tmp_path))
    assert "cannot reach the database" in line and "127.0.0.1:1" in line


def test_the_module_entry_point_is_the_console_script() -> None:
    assert (ROOT / "terminology" / "cli" / "__main__.py").exists()
