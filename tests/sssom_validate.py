"""``sssom validate`` on a file the tests wrote: the check a consumer of our SSSOM runs first."""

from __future__ import annotations

from pathlib import Path


def assert_passes_sssom_validate(path: Path) -> None:
    """Run the ``sssom validate`` command (the ``sssom`` package's own CLI, in process: its
    schema, prefix and predicate checks) and fail with its report when it refuses the file."""
    from click.testing import CliRunner
    from sssom.cli import main

    result = CliRunner().invoke(main, ["validate", str(path)])
    assert result.exit_code == 0, f"sssom validate {path.name}: {result.output}\n{result.exception!r}"
