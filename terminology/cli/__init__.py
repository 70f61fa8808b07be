"""The ``concordance`` command line (typer + rich)."""

import os

from terminology.memory import ALLOCATOR, ALLOCATOR_SETTINGS

# Set before polars is first imported (its allocator reads it once): see terminology.memory.
os.environ.setdefault(ALLOCATOR, ALLOCATOR_SETTINGS)
