"""The ``concordance`` command line (typer + rich)."""
