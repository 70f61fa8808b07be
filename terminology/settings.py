"""The one settings object, read from ``CONCORDANCE_*`` environment variables."""

from __future__ import annotations

from functools import lru_cache

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Runtime configuration.

    The default database is an SQLite file in the working directory so that a
    first run needs no server; production points ``CONCORDANCE_DATABASE_URL``
    at PostgreSQL (``postgresql+psycopg://user@host/db``).
    """

    model_config = SettingsConfigDict(env_prefix="CONCORDANCE_", env_file=None, extra="ignore")

    database_url: str = Field(default="sqlite:///concordance.db")
    import_batch_size: int = Field(default=20_000, ge=100)
    sql_echo: bool = False
    retrain_every: int = Field(default=0, ge=0)
    """Through the API, refit a project's model in the background whenever this many more
    of its rows have been accepted since it last learnt (0: only when asked)."""
    retrain_workers: int = Field(default=1, ge=1, le=8)
    """Refits one API worker runs at once (each in a child process); the others wait."""
    retrain_memory_mb: int = Field(default=3_072, ge=32)
    """A refit's child process is stopped (its job failed, saying so) past this resident memory."""
    retrain_threads: int = Field(default=1, ge=1, le=64)
    """Threads a refit's child may use (numba, polars, LightGBM): the others serve requests."""
    retrain_stale_seconds: float = Field(default=60.0, gt=0)
    """A running refit silent this long (its process killed) is taken over by the next request."""

    # Limits on what one anonymous request may cost (documented in the README).
    max_body_bytes: int = Field(default=10 * 1024 * 1024, ge=1024)
    """Request bodies larger than this are refused with 413 before they are read whole."""
    max_value_set_parts: int = Field(default=32, ge=1)
    """``include`` + ``exclude`` parts one ValueSet operation may evaluate, imports counted."""
    max_codings: int = Field(default=100, ge=1)
    """Codings one ``$translate`` / ``$validate-code`` request may ask about."""
    max_expansion: int = Field(default=1_000, ge=1)
    """Concepts one ``$expand`` answer may list (page with ``count`` / ``offset`` beyond): the
    reference servers' limit, which clients of terminology servers already page around."""
    operation_seconds: float = Field(default=20.0, gt=0)
    """Time one ValueSet operation may take, waiting for its turn included."""
    heavy_operations: int = Field(default=2, ge=1)
    """ValueSet operations one worker runs at once; the others wait their turn."""
    thread_switch_ms: float = Field(default=1.0, gt=0, le=100)
    """How often a busy thread of the API worker yields the interpreter to the others."""
    code_system_cache_concepts: int = Field(default=300_000, ge=0)
    """Concepts of stored code systems a worker keeps indexed for ValueSet operations."""
    freeze_indexes: bool = True
    """Whether the server moves an indexed code system out of the collector's reach
    (``gc.freeze``) once built: it lives as long as the process, and a full collection that
    walks its half-million objects holds every request for ~150 ms."""
    base_url: str | None = Field(default=None, pattern=r"^https?://[^\s/?#]+(/[^\s?#]*)?$")
    """The server's public address (``https://tx.example.org/``), from which ``Location``,
    ``fullUrl`` and paging links are built. Unset: the address the server listens on. Never
    the request's ``Host``, which any client may set."""
    max_comment_chars: int = Field(default=10_000, ge=1)
    """Longest comment (or flag / reject reason) a curator may write."""


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """Settings are read once per process; tests build their own ``Settings``."""
    return Settings()
