"""Search text is text, not a pattern (issue 12): ``%`` and ``_`` match themselves in the
work queue and the target search; FHIR paging refuses a negative ``_count``."""

from __future__ import annotations

from tests.api.test_curation import World


def test_like_wildcards_match_themselves(world: World) -> None:
    url = f"/api/projects/{world.project.id}"
    everything = world.client.get(f"{url}/rows", headers=world.as_("viewer")).json()["total"]
    assert everything == 286
    for text in ("_", "%", "C0_", "%02"):
        found = world.client.get(f"{url}/rows", params={"q": text}, headers=world.as_("viewer")).json()
        assert found["total"] == 0, text
    assert (
        world.client.get(f"{url}/rows", params={"q": "C02.05"}, headers=world.as_("viewer")).json()["total"]
        > 0
    )
    for text in ("_", "%"):
        targets = world.client.get(f"{url}/targets", params={"q": text}, headers=world.as_("viewer")).json()
        assert targets == [], text


def test_fhir_search_refuses_a_negative_or_zero_count(world: World) -> None:
    for count in ("-1", "-100"):
        answer = world.client.get("/fhir/ConceptMap", params={"_count": count})
        assert answer.status_code == 400 and answer.json()["resourceType"] == "OperationOutcome", count
        answer = world.client.get("/fhir/CodeSystem", params={"_count": count})
        assert answer.status_code == 400, count
    capped = world.client.get("/fhir/ConceptMap", params={"_count": "100000"}).json()
    assert len(capped.get("entry", [])) <= 500
