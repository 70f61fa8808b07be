"""Stored ValueSet versions on SQLite and PostgreSQL: a draft may be rewritten (its
revision goes up), an active version's content is fixed, a stale If-Match is refused."""

from __future__ import annotations

import pytest

from terminology.storage.store import SqlStore
from terminology.storage.valuesets import (
    StaleRevisionError,
    ValueSetNotFoundError,
    ValueSetVersionConflictError,
    get_value_set,
    save_value_set,
    search_value_sets,
)


def value_set(status: str = "draft", codes: tuple[str, ...] = ("a",), version: str = "1") -> dict:
    return {
        "resourceType": "ValueSet", "url": "urn:vs:lab", "version": version, "name": "LabTests",
        "status": status, "compose": {"include": [{"system": "urn:cs", "concept": [{"code": c} for c in codes]}]},
    }  # fmt: skip


def test_a_draft_is_rewritten_and_an_active_version_is_fixed(store: SqlStore) -> None:
    first, new = save_value_set(store, value_set())
    assert new and first.revision == 1 and first.as_served()["meta"]["versionId"] == "1"
    again, changed = save_value_set(store, value_set())
    assert not changed and again.revision == 1
    rewritten, changed = save_value_set(store, value_set(codes=("a", "b")), expected_revision=1)
    assert changed and rewritten.id == first.id and rewritten.revision == 2
    with pytest.raises(StaleRevisionError, match=r"ValueSet/\d+ is at revision 2, not 1"):
        save_value_set(store, value_set(codes=("c",)), expected_revision=1)
    active, _ = save_value_set(store, value_set("active", codes=("a", "b")))
    assert active.status == "active" and active.revision == 3
    with pytest.raises(ValueSetVersionConflictError, match="is active: its content is fixed"):
        save_value_set(store, value_set("active", codes=("a",)))
    assert get_value_set(store, first.id).resource["compose"]["include"][0]["concept"] == [
        {"code": "a"}, {"code": "b"},
    ]  # fmt: skip


def test_search_and_unknown_ids(store: SqlStore) -> None:
    save_value_set(store, value_set(version="1"))
    save_value_set(store, value_set(version="2", status="active"))
    assert [v.version for v in search_value_sets(store, url="urn:vs:lab")] == ["2", "1"]
    assert [v.version for v in search_value_sets(store, name="lab", status="active")] == ["2"]
    assert search_value_sets(store, name="other") == []
    with pytest.raises(ValueSetNotFoundError):
        get_value_set(store, 10**6)
    with pytest.raises(StaleRevisionError, match="does not exist yet"):
        save_value_set(store, value_set(version="3"), expected_revision=1)
