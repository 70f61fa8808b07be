"""Concordance: semantic terminology mapping for health data.

The ``terminology`` package is the domain: code systems, importers, storage
and the command line. It never imports the web framework; ``api`` is a thin
edge over it.
"""

__version__ = "0.1.0"


def __getattr__(name: str) -> object:
    """``from terminology import Concordance`` without loading polars and SQLAlchemy for
    every ``import terminology`` (the command line starts faster)."""
    if name == "Concordance":
        from terminology.workbench import Concordance

        return Concordance
    raise AttributeError(f"module 'terminology' has no attribute {name!r}")
