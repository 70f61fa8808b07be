"""The curation world (the SAMU-Hub project, one user per role) for every API test module."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from terminology.storage.store import SqlStore
from tests.api.test_curation import World, build_world


@pytest.fixture
def world(store: SqlStore, database_url: str) -> Iterator[World]:
    yield from build_world(store, database_url)
