"""Stored ValueSet versions on SQLite and PostgreSQL: a draft may be rewritten (its
revision goes up), an active version's content is fixed, a stale If-Match is refused."""

from __future__ import annotations

import pytest

from terminology.records import StaleRevisionError, ValueSetNotFoundError, ValueSetVersionConflictError
from terminology.storage.database import SqlDatabase


def value_set(status: str = "draft", codes: tuple[str, ...] = ("a",), version: str = "1") -> dict:
    return {
        "resourceType": "ValueSet", "url": "urn:vs:lab", "version": version, "name": "LabTests",
        "status": status, "compose": {"include": [{"system": "urn:cs", "concept": [{"code": c} for c in codes]}]},
    }  # fmt: skip


def test_a_draft_is_rewritten_and_an_active_version_is_fixed(store: SqlDatabase) -> None:
    first, new = store.value_sets.save_value_set(value_set())
    assert new and first.revision == 1 and first.as_served()["meta"]["versionId"] == "1"
    again, changed = store.value_sets.save_value_set(value_set())
    assert not changed and again.revision == 1
    rewritten, changed = store.value_sets.save_value_set(value_set(codes=("a", "b")), expected_revision=1)
    assert changed and rewritten.id == first.id and rewritten.revision == 2
    with pytest.raises(StaleRevisionError, match=r"ValueSet/\d+ is at revision 2, not 1"):
        store.value_sets.save_value_set(value_set(codes=("c",)), expected_revision=1)
    active, _ = store.value_sets.save_value_set(value_set("active", codes=("a", "b")))
    assert active.status == "active" and active.revision == 3
    with pytest.raises(ValueSetVersionConflictError, match="is active: its content is fixed"):
        store.value_sets.save_value_set(value_set("active", codes=("a",)))
    assert store.value_sets.get_value_set(first.id).resource["compose"]["include"][0]["concept"] == [
        {"code": "a"}, {"code": "b"},
    ]  # fmt: skip


def test_search_and_unknown_ids(store: SqlDatabase) -> None:
    store.value_sets.save_value_set(value_set(version="1"))
    store.value_sets.save_value_set(value_set(version="2", status="active"))
    assert [v.version for v in store.value_sets.search_value_sets(url="urn:vs:lab")] == ["2", "1"]
    assert [v.version for v in store.value_sets.search_value_sets(name="lab", status="active")] == ["2"]
    assert store.value_sets.search_value_sets(name="other") == []
    with pytest.raises(ValueSetNotFoundError):
        store.value_sets.get_value_set(10**6)
    with pytest.raises(StaleRevisionError, match="does not exist yet"):
        store.value_sets.save_value_set(value_set(version="3"), expected_revision=1)
