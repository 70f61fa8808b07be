"""How a large match keeps within its memory budget.

polars allocates through its own jemalloc, which keeps freed pages for reuse. A full
CIM-11 → CIM-10 match frees and reallocates hundreds of MB between its steps, so with the
default settings its resident memory peaked near 1.5 GB when about 1.35 GB was live.
Returning freed pages at once (``dirty_decay_ms:0``) costs about a tenth more time and
keeps the peak at what is live. The command line and a refit's child process set it before
polars loads; a notebook or a server that wants it sets the variable before starting.
"""

ALLOCATOR = "_RJEM_MALLOC_CONF"
"""The environment variable polars' jemalloc reads its settings from (read once, at load)."""
ALLOCATOR_SETTINGS = "dirty_decay_ms:0,muzzy_decay_ms:0"
"""Freed pages go back to the system at once."""
