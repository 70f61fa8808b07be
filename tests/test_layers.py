"""The layers stay apart: the domain never imports the web framework, the API never talks
SQL itself, and the command-line modules do not import each other in a circle."""

from __future__ import annotations

import ast
from pathlib import Path

from tests.conftest import ROOT


def imported_modules(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
    return found


def offenders(folder: str, forbidden: tuple[str, ...]) -> list[str]:
    return sorted(
        f"{path.relative_to(ROOT)} imports {module}"
        for path in (ROOT / folder).rglob("*.py")
        for module in imported_modules(path)
        if module.split(".")[0] in forbidden
    )


def test_the_domain_never_imports_the_web_framework() -> None:
    assert offenders("terminology", ("fastapi", "starlette", "uvicorn")) == []


def test_the_api_never_talks_sql_itself() -> None:
    assert offenders("api", ("sqlalchemy", "sqlmodel", "psycopg")) == []


def test_no_import_cycle_among_the_command_line_modules() -> None:
    folder = ROOT / "terminology" / "cli"
    graph = {
        path.stem: {m.rsplit(".", 1)[-1] for m in imported_modules(path) if m.startswith("terminology.cli.")}
        for path in folder.glob("*.py")
    }

    def reaches(start: str, goal: str, seen: frozenset[str] = frozenset()) -> bool:
        return any(
            n == goal or (n not in seen and reaches(n, goal, seen | {n})) for n in graph.get(start, ())
        )

    assert [module for module in graph if reaches(module, module)] == []


STORAGE_MAY_IMPORT = (
    "terminology.errors",
    "terminology.models",
    "terminology.settings",
    "terminology.text",
    "terminology.batches",
    "terminology.versions",
    "terminology.review.workflow",
    "terminology.review.double",
    "terminology.review.context",
    "terminology.storage",
)
"""The domain's types and pure rules, and storage itself: nothing that reads files,
matches, publishes or serves (those call storage, never the other way round)."""


def test_storage_imports_no_higher_layer() -> None:
    found = sorted(
        f"{path.relative_to(ROOT)} imports {module}"
        for path in (ROOT / "terminology" / "storage").rglob("*.py")
        if "migrations" not in path.parts
        for module in imported_modules(path)
        if module.startswith("terminology")
        and not any(module == allowed or module.startswith(allowed + ".") for allowed in STORAGE_MAY_IMPORT)
    )
    assert found == []


def test_the_review_rules_stay_pure() -> None:
    """The workflow and double-review rules are functions of rows: no storage, no files."""
    rules = [ROOT / "terminology" / "review" / name for name in ("workflow.py", "double.py")]
    found = sorted(
        f"{path.name} imports {module}"
        for path in rules
        for module in imported_modules(path)
        if module.split(".")[0] in ("sqlalchemy", "sqlmodel", "polars")
        or module.startswith(("terminology.storage", "terminology.services"))
    )
    assert found == []


def test_services_reach_storage_only_through_its_protocols() -> None:
    """Services take storage's types (rows, projects, errors) but call it only through
    the Protocols of ``terminology/storage/interfaces.py``, which mypy checks the SQL
    modules against."""
    found = []
    for path in (ROOT / "terminology" / "services").glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("terminology.storage"):
                for alias in node.names:
                    allowed = alias.name[0].isupper() or alias.name in (
                        "sql_backend",
                        "value_set_backend",
                        "job_backend",
                        "open_sql_store",
                    )
                    if node.module == "terminology.storage" or not allowed:
                        found.append(f"{path.name} imports {alias.name} from {node.module}")
    assert found == []


def test_the_domain_rules_never_reach_storage() -> None:
    """Publication (the FHIR rules), matching, review, importers' parsing and exporters are
    functions of data: the services hand them what storage read."""
    folders = ("publication", "matching", "review", "importers", "exporters")
    found = sorted(
        f"{path.relative_to(ROOT)} imports {module}"
        for folder in folders
        for path in (ROOT / "terminology" / folder).rglob("*.py")
        for module in imported_modules(path)
        if module.startswith(("terminology.storage", "terminology.services", "sqlalchemy"))
    )
    assert found == []
