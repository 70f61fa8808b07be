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
