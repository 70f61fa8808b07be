"""HTTP edge of Concordance (FastAPI); thin over the ``terminology`` domain."""
