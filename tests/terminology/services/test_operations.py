"""Terminology operations as the FHIR API and scripts call them: a code system the request
sends answers before a stored one of the same url, the latest version when none is named."""

from __future__ import annotations

import pytest

from terminology.errors import CodeSystemNotFoundError
from terminology.importers import importer_class
from terminology.models import CodeSystemMetadata
from terminology.services.importing import import_code_system
from terminology.services.operations import Sent, lookup_code
from terminology.storage.store import SqlStore
from tests.conftest import BUNDLED

SAMU = "urn:samu"


def sent_version(version: str, display: str) -> dict[str, object]:
    return {
        "resourceType": "CodeSystem", "url": SAMU, "version": version, "status": "active", "content": "complete",
        "concept": [{"code": "C02.18.00", "display": display}],
    }  # fmt: skip


def display_of(parameters: list[dict[str, object]]) -> object:
    return next(p["valueString"] for p in parameters if p["name"] == "display")


@pytest.fixture
def stored(store: SqlStore) -> SqlStore:
    import_code_system(
        store,
        importer_class("csv").with_options({}),
        BUNDLED / "samu_nomenclature" / "samu_nomenclature_v2.3.csv",
        overrides=CodeSystemMetadata(url=SAMU, version="2.3", language="fr", name="SAMU"),
    )
    return store


def test_a_sent_code_system_answers_before_the_stored_one(stored: SqlStore) -> None:
    from_store = lookup_code(stored, Sent(), system=SAMU, code="C02.18.00")
    assert display_of(from_store) != "sent 1"
    sent = Sent.of([sent_version("1", "sent 1"), sent_version("10", "sent 10"), sent_version("9", "sent 9")])
    assert display_of(lookup_code(stored, sent, system=SAMU, code="C02.18.00")) == "sent 10"
    assert display_of(lookup_code(stored, sent, system=f"{SAMU}|9", code="C02.18.00")) == "sent 9"
    assert display_of(lookup_code(stored, sent, system=SAMU, version="2.3", code="C02.18.00")) == display_of(
        from_store
    )


def test_unknown_systems_and_supplements_are_not_found(stored: SqlStore) -> None:
    with pytest.raises(CodeSystemNotFoundError, match="CodeSystem 'urn:samu\\|7' could not be found"):
        lookup_code(stored, Sent(), system=SAMU, version="7", code="C02.18.00")
    with pytest.raises(CodeSystemNotFoundError, match="Required supplement not found: urn:extra"):
        lookup_code(stored, Sent(), system=SAMU, code="C02.18.00", supplements=["urn:extra"])
