"""A stored concept for ``$lookup`` costs the same few queries however many parents and
children it has (it used to cost one query per parent and per child)."""

from __future__ import annotations

from terminology.importers import importer_class
from terminology.services.importing import import_code_system
from terminology.services.operations import concept_index
from terminology.storage.store import SqlStore
from tests.conftest import FIXTURES, counted


def test_lookup_queries_do_not_grow_with_the_family(store: SqlStore) -> None:
    system = import_code_system(
        store, importer_class("claml").with_options({}), FIXTURES / "icd10_who_sample.claml.xml"
    ).code_system
    families = {code: len(store.children(system, code)) for code in ("A00", "A00.0", "A00-A09")}
    big = max(families, key=lambda code: families[code])
    leaf = min(families, key=lambda code: families[code])
    assert families[big] >= 2 and families[leaf] == 0
    costs = {}
    for code in (big, leaf):
        with counted(store) as statements:
            index = concept_index(store, system.url, system.version, code)
        assert index is not None and code in index.concepts
        costs[code] = len(statements)
    assert costs[big] == costs[leaf] <= 8, costs
    assert len(index.concepts) >= 1
    found = concept_index(store, system.url, system.version, big)
    assert found is not None and len(found.children[big]) == families[big]
    assert all(found.concepts[child]["display"] for child in found.children[big])
