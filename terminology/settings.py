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


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """Settings are read once per process; tests build their own ``Settings``."""
    return Settings()
