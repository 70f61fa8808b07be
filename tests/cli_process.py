"""The command line run as a terminologist runs it: a process of its own."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path


def concordance(
    *args: str, database_url: str, cwd: Path, timeout: float = 300
) -> subprocess.CompletedProcess[str]:
    """``concordance ARGS`` on ``database_url``, from ``cwd``; its output captured."""
    env = {**os.environ, "CONCORDANCE_DATABASE_URL": database_url}
    return subprocess.run(
        [sys.executable, "-m", "terminology.cli", *args], cwd=cwd, env=env, capture_output=True, text=True,
        timeout=timeout,
    )  # fmt: skip
