"""Alembic environment: the URL comes from Concordance settings, not from an ini file."""

from __future__ import annotations

from alembic import context
from sqlmodel import SQLModel

import terminology.storage.tables  # noqa: F401  (registers the tables on the metadata)
from terminology.settings import get_settings
from terminology.storage.engine import make_engine

config = context.config
target_metadata = SQLModel.metadata


def run_migrations() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        context.configure(connection=connection, target_metadata=target_metadata, render_as_batch=True)
        with context.begin_transaction():
            context.run_migrations()
        return
    engine = make_engine(get_settings())
    with engine.connect() as conn:
        context.configure(connection=conn, target_metadata=target_metadata, render_as_batch=True)
        with context.begin_transaction():
            context.run_migrations()


run_migrations()
