"""FHIR routes over HTTP (ASGI) on SQLite and PostgreSQL: publication, read/search, $translate."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from terminology.review.workflow import Actor, Decision, Role, Target, decide
from terminology.services.concept_maps import publish_project as publish
from terminology.services.concept_maps import save_concept_map
from terminology.storage import conceptmaps, curation
from tests.api.test_curation import World, build_world
from tests.conftest import BUNDLED
from tests.sssom_validate import assert_passes_sssom_validate

HL7 = BUNDLED / "hl7_conceptmaps" / "original"
FHIR = "application/fhir+json"


@pytest.fixture
def fhir_world(store, database_url: str) -> Iterator[World]:  # type: ignore[no-untyped-def]
    for world in build_world(store, database_url):
        author, reviewer = Actor(name="author", role=Role.AUTHOR), Actor(name="reviewer", role=Role.REVIEWER)
        for code, target in (("C02.05.03", "C02.18.00"), ("C04.01.00", None)):
            row = curation.get_row(store, world.project, code)
            first = (
                Decision(action="map", targets=(Target(code=target),))
                if target
                else Decision(action="no_map")
            )
            for decision, actor in (
                (first, author),
                (Decision(action="submit"), author),
                (Decision(action="accept"), reviewer),
            ):
                after = decide(row, decision, actor)
                row = curation.save_decision(store, row, after, action=decision.action)
        for name in ("ConceptMap-101.json", "ConceptMap-102.json"):
            save_concept_map(store, json.loads((HL7 / name).read_text(encoding="utf-8")))
        yield world


def params(answer: dict) -> dict[str, list]:
    found: dict[str, list] = {}
    for parameter in answer["parameter"]:
        found.setdefault(parameter["name"], []).append(parameter)
    return found


def parts(match: dict) -> dict:
    return {part["name"]: next(v for k, v in part.items() if k.startswith("value")) for part in match["part"]}


def test_publish_serve_and_translate_curated_decisions(fhir_world: World) -> None:
    stored = publish(fhir_world.store, fhir_world.project, status="active")
    client = fhir_world.client
    read = client.get(f"/fhir/ConceptMap/{stored.id}")
    assert read.status_code == 200 and read.headers["content-type"].startswith(FHIR)
    resource = read.json()
    assert resource["resourceType"] == "ConceptMap" and resource["status"] == "active"
    assert len(resource["version"]) == 14 and resource["group"][0]["sourceVersion"] == "1.9"
    elements = {e["code"]: e for e in resource["group"][0]["element"]}
    assert elements["C04.01.00"]["target"][0]["equivalence"] == "unmatched"  # explicit "no map"
    provenance = elements["C02.05.03"]["target"][0]["extension"][0]
    assert {p["url"]: p.get("valueString") for p in provenance["extension"]}["reviewer"] == "reviewer"

    answer = client.get(
        "/fhir/ConceptMap/$translate", params={"url": stored.url, "system": "urn:samu", "code": "C02.05.03"}
    ).json()
    found = params(answer)
    assert found["result"][0]["valueBoolean"] is True
    match = parts(found["match"][0])
    assert match["equivalence"] == "equivalent" and match["concept"]["code"] == "C02.18.00"
    assert match["source"] == f"{stored.url}|{stored.version}"
    none = client.get(
        "/fhir/ConceptMap/$translate", params={"url": stored.url, "system": "urn:samu", "code": "C04.01.00"}
    ).json()
    assert params(none)["result"][0]["valueBoolean"] is False and "message" in params(none)


def test_translate_forms_r4_and_r5_get_and_post(fhir_world: World) -> None:
    client = fhir_world.client
    url = "http://hl7.org/fhir/ConceptMap/101"
    system = "http://hl7.org/fhir/address-use"
    wanted = {"system": "http://terminology.hl7.org/CodeSystem/v3-AddressUse", "code": "H", "display": "home"}

    def first_concept(answer: dict) -> dict:
        return parts(params(answer)["match"][0])["concept"]

    get = client.get("/fhir/ConceptMap/$translate", params={"url": url, "system": system, "code": "home"})
    assert first_concept(get.json()) == wanted
    coding = client.get("/fhir/ConceptMap/$translate", params={"url": url, "coding": f"{system}|home"})
    assert first_concept(coding.json()) == wanted
    bodies = [
        [{"name": "url", "valueUri": url}, {"name": "system", "valueUri": system}, {"name": "code", "valueCode": "home"}],
        [{"name": "url", "valueUri": url}, {"name": "coding", "valueCoding": {"system": system, "code": "home"}}],
        [{"name": "url", "valueUri": url},
         {"name": "codeableConcept", "valueCodeableConcept": {"coding": [{"system": system, "code": "home"}]}}],
        [{"name": "url", "valueUri": url}, {"name": "system", "valueUri": system}, {"name": "sourceCode", "valueCode": "home"}],
        [{"name": "url", "valueUri": url}, {"name": "sourceCoding", "valueCoding": {"system": system, "code": "home"}}],
    ]  # fmt: skip
    for body in bodies:
        answer = client.post(
            "/fhir/ConceptMap/$translate", json={"resourceType": "Parameters", "parameter": body}
        )
        assert answer.status_code == 200, answer.text
        assert first_concept(answer.json()) == wanted
    stored = conceptmaps.search_concept_maps(fhir_world.store, url=url)[0]
    instance = client.get(
        f"/fhir/ConceptMap/{stored.id}/$translate", params={"system": system, "code": "home"}
    )
    assert first_concept(instance.json()) == wanted
    reverse = client.get(
        "/fhir/ConceptMap/$translate",
        params={"url": url, "system": wanted["system"], "code": "H", "reverse": "true"},
    )
    assert parts(params(reverse.json())["match"][0])["concept"]["code"] == "home"
    r5_reverse = client.post(
        "/fhir/ConceptMap/$translate",
        json={"resourceType": "Parameters", "parameter": [
            {"name": "url", "valueUri": url}, {"name": "targetCoding", "valueCoding": {"system": wanted["system"], "code": "H"}}]},
    )  # fmt: skip
    r5_parts = parts(params(r5_reverse.json())["match"][0])
    assert r5_parts["source"]["code"] == "home" and r5_parts["concept"]["code"] == "H"  # R5 names, R5 answer
    assert r5_parts["originMap"] == f"{url}|4.0.1"
    scoped = client.get(
        "/fhir/ConceptMap/$translate",
        params={"system": system, "code": "home", "targetsystem": wanted["system"]},
    )
    assert any(parts(m)["concept"].get("code") == "H" for m in params(scoped.json())["match"])


def test_unmapped_fixed_mode_applies(fhir_world: World) -> None:
    answer = fhir_world.client.get(
        "/fhir/ConceptMap/$translate",
        params={
            "url": "http://hl7.org/fhir/ConceptMap/101",
            "system": "http://hl7.org/fhir/address-use",
            "code": "billing",
        },
    ).json()
    match = parts(params(answer)["match"][0])
    assert match["concept"]["code"] == "temp"  # group.unmapped mode=fixed code=temp


def test_errors_are_operation_outcomes(fhir_world: World) -> None:
    client = fhir_world.client
    cases = [
        (client.get("/fhir/ConceptMap/$translate", params={"url": "http://nowhere/map", "system": "s", "code": "c"}), 404, "not-found"),
        (client.get("/fhir/ConceptMap/$translate", params={"url": "http://hl7.org/fhir/ConceptMap/101"}), 400, "required"),
        (client.get("/fhir/ConceptMap/$translate", params={"code": "home"}), 400, "required"),
        (client.post("/fhir/ConceptMap/$translate", json={"resourceType": "Patient"}), 400, "invalid"),
        (client.post("/fhir/ConceptMap/$translate", content=b"{not json", headers={"Content-Type": FHIR}), 400, "invalid"),
        (client.get("/fhir/ConceptMap/99999"), 404, "not-found"),
        (client.get("/fhir/ConceptMap/abc"), 404, "not-found"),
        (client.get("/fhir/ConceptMap", params={"colour": "red"}), 400, "not-supported"),
        (client.get("/fhir/ConceptMap/$translate", params={"url": "http://hl7.org/fhir/ConceptMap/101", "system": "s", "code": "c", "reverse": "maybe"}), 400, "invalid"),
    ]  # fmt: skip
    for answer, status, code in cases:
        assert answer.status_code == status, answer.text
        body = answer.json()
        assert body["resourceType"] == "OperationOutcome" and body["issue"][0]["code"] == code
        assert "Traceback" not in answer.text


def test_search_and_paging(fhir_world: World) -> None:
    client = fhir_world.client
    first = client.get("/fhir/ConceptMap", params={"_count": 1}).json()
    assert first["resourceType"] == "Bundle" and first["type"] == "searchset" and first["total"] == 2
    assert len(first["entry"]) == 1
    next_url = next(link["url"] for link in first["link"] if link["relation"] == "next")
    second = client.get(next_url.replace("http://testserver", "")).json()
    assert second["entry"][0]["resource"]["id"] != first["entry"][0]["resource"]["id"]
    by_source = client.get(
        "/fhir/ConceptMap", params={"source-system": "http://hl7.org/fhir/address-use"}
    ).json()
    assert [e["resource"]["url"] for e in by_source["entry"]] == ["http://hl7.org/fhir/ConceptMap/101"]
    by_url = client.get(
        "/fhir/ConceptMap", params={"url": "http://hl7.org/fhir/ConceptMap/102", "status": "draft"}
    ).json()
    assert by_url["total"] == 1


def test_capability_statements(fhir_world: World) -> None:
    capability = fhir_world.client.get("/fhir/metadata").json()
    assert capability["resourceType"] == "CapabilityStatement" and capability["kind"] == "instance"
    assert capability["fhirVersion"] == "4.0.1"
    assert "http://hl7.org/fhir/CapabilityStatement/terminology-server" in capability["instantiates"]
    terminology = fhir_world.client.get("/fhir/metadata", params={"mode": "terminology"}).json()
    assert terminology["resourceType"] == "TerminologyCapabilities"
    samu = next(entry for entry in terminology["codeSystem"] if entry["uri"] == "urn:samu")
    assert [(v["code"], v["isDefault"], v["language"]) for v in samu["version"]] == [
        ("1.9", False, ["fr"]),
        ("2.3", True, ["fr"]),
    ]
    stored = {(system.url, system.version) for system in fhir_world.store.code_systems()}
    listed = {(entry["uri"], v["code"]) for entry in terminology["codeSystem"] for v in entry["version"]}
    assert listed == stored


def test_every_declared_search_parameter_works(fhir_world: World) -> None:
    """What the CapabilityStatement declares is accepted, and narrows the search."""
    capability = fhir_world.client.get("/fhir/metadata").json()
    examples = {"url": "urn:samu", "version": "2.3", "name": "SAMU", "status": "active",
                "source-system": "urn:samu", "target-system": "urn:samu", "source-uri": "urn:samu",
                "target-uri": "urn:samu"}  # fmt: skip
    declared = {
        resource["type"]: [param["name"] for param in resource.get("searchParam", [])]
        for resource in capability["rest"][0]["resource"]
    }
    assert set(declared["CodeSystem"]) == {"url", "version", "name", "status"}
    assert set(declared["ValueSet"]) == {"url", "version", "name", "status"}
    for kind in ("CodeSystem", "ConceptMap", "ValueSet"):
        everything = fhir_world.client.get(f"/fhir/{kind}", params={"_count": 500}).json()["total"]
        for name in declared[kind]:
            answer = fhir_world.client.get(f"/fhir/{kind}", params={name: examples[name]})
            assert answer.status_code == 200, (kind, name, answer.text)
            assert answer.json()["total"] <= everything
    assert fhir_world.client.get("/fhir/CodeSystem", params={"version": "2.3"}).json()["total"] == 1
    for name in ("_summary", "_elements", "_count", "_offset"):
        assert name in {param["name"] for param in capability["rest"][0]["searchParam"]}


def test_summary_and_elements_on_reads_and_searches(fhir_world: World) -> None:
    stored = publish(fhir_world.store, fhir_world.project, status="active")
    client = fhir_world.client
    full = client.get(f"/fhir/ConceptMap/{stored.id}").json()
    summary = client.get(f"/fhir/ConceptMap/{stored.id}", params={"_summary": "true"}).json()
    assert "group" in full and "group" not in summary
    assert summary["url"] == full["url"] and summary["version"] == full["version"]
    assert {"system": "http://terminology.hl7.org/CodeSystem/v3-ObservationValue", "code": "SUBSETTED"} in (
        summary["meta"]["tag"]
    )
    picked = client.get(f"/fhir/ConceptMap/{stored.id}", params={"_elements": "url,group"}).json()
    assert set(picked) == {"resourceType", "id", "meta", "url", "status", "group"}
    counted = client.get("/fhir/ConceptMap", params={"_summary": "count"}).json()
    assert counted["total"] >= 1 and "entry" not in counted
    listed = client.get("/fhir/ConceptMap", params={"url": stored.url, "_summary": "true"}).json()
    assert listed["total"] == 1 and "group" not in listed["entry"][0]["resource"]
    systems = client.get("/fhir/CodeSystem", params={"_elements": "url,version"}).json()
    assert all(set(e["resource"]) == {"resourceType", "id", "meta", "url", "version", "status", "content"}
               for e in systems["entry"])  # fmt: skip
    assert client.get("/fhir/CodeSystem", params={"_summary": "count"}).json()["total"] == systems["total"]
    refused = client.get(f"/fhir/ConceptMap/{stored.id}", params={"_summary": "count"})
    assert refused.status_code == 400 and refused.json()["resourceType"] == "OperationOutcome"
    assert "_summary=count is not one of" in refused.json()["issue"][0]["details"]["text"]


def test_a_published_version_never_changes_and_newest_active_answers(fhir_world: World) -> None:
    first = publish(fhir_world.store, fhir_world.project, status="active", version="20260101000000")
    again = publish(fhir_world.store, fhir_world.project, status="active", version="20260101000000")
    assert again.id == first.id  # same decisions, same version: unchanged
    row = curation.get_row(fhir_world.store, fhir_world.project, "C02.05.03")
    reopened = decide(row, Decision(action="reopen"), Actor(name="author", role=Role.AUTHOR))
    curation.save_decision(fhir_world.store, row, reopened, action="reopen")
    with pytest.raises(conceptmaps.ConceptMapVersionConflictError):
        publish(fhir_world.store, fhir_world.project, status="active", version="20260101000000")
    newer = publish(fhir_world.store, fhir_world.project, status="active", version="20260102000000")
    fhir_world.client.app.state.map_cache.recheck_seconds = 0  # type: ignore[attr-defined]
    answer = fhir_world.client.get(
        "/fhir/ConceptMap/$translate", params={"url": newer.url, "system": "urn:samu", "code": "C02.05.03"}
    ).json()
    assert params(answer)["result"][0]["valueBoolean"] is False  # the newest version no longer maps it
    pinned = fhir_world.client.get(
        "/fhir/ConceptMap/$translate",
        params={
            "url": newer.url,
            "conceptMapVersion": first.version,
            "system": "urn:samu",
            "code": "C02.05.03",
        },
    ).json()
    assert params(pinned)["result"][0]["valueBoolean"] is True


def test_lookup_of_a_stored_code_system(fhir_world: World) -> None:
    client = fhir_world.client
    answer = client.get(
        "/fhir/CodeSystem/$lookup", params={"system": "urn:samu", "version": "1.9", "code": "C02.05.03"}
    )
    assert answer.status_code == 200 and answer.headers["content-type"].startswith(FHIR)
    found = params(answer.json())
    assert found["display"][0]["valueString"] == "Atteinte aux personnesPsychiatrique"
    assert found["version"][0]["valueString"] == "1.9"
    designations = [{p["name"]: p.get("valueString") for p in d["part"]} for d in found["designation"]]
    assert {"value": "Psychiatrique", "language": None, "use": None} | designations[-1] == designations[-1]
    assert any(d.get("value") == "Psychiatrique" for d in designations)
    props = {parts(p)["code"]: parts(p)["value"] for p in found["property"]}
    assert props["field"] == "Circonstances Natures de Faits" and props["inactive"] is False
    coding = client.get("/fhir/CodeSystem/$lookup", params={"coding": "urn:samu|C02.18.00"})
    assert coding.status_code == 200  # latest version when none is given
    unknown = client.get("/fhir/CodeSystem/$lookup", params={"system": "urn:samu", "code": "NOPE"})
    assert unknown.status_code == 404 and unknown.json()["issue"][0]["code"] == "not-found"
    missing = client.get("/fhir/CodeSystem/$lookup", params={"system": "urn:nowhere", "code": "x"})
    assert missing.status_code == 404 and missing.json()["resourceType"] == "OperationOutcome"
    incomplete = client.get("/fhir/CodeSystem/$lookup", params={"code": "x"})
    assert incomplete.status_code == 400


def test_every_served_concept_map_is_valid_r4(fhir_world: World) -> None:
    """Validated with the R4B ConceptMap model of fhir.resources (R4B left ConceptMap as in R4)."""
    from fhir.resources.R4B.conceptmap import ConceptMap

    from terminology.exporters.conceptmap_formats import to_sssom
    from terminology.publication.from_sssom import conceptmap_from_sssom
    from terminology.services.concept_maps import serve_bundled_maps

    publish(fhir_world.store, fhir_world.project, status="active")
    serve_bundled_maps(fhir_world.store)
    hl7 = conceptmaps.search_concept_maps(fhir_world.store, url="http://hl7.org/fhir/ConceptMap/102")[0]
    from_sssom = conceptmap_from_sssom(to_sssom(hl7.resource)) | {
        "version": "sssom-1"
    }  # served from SSSOM too
    save_concept_map(fhir_world.store, from_sssom)
    bundle = fhir_world.client.get("/fhir/ConceptMap", params={"_count": 500}).json()
    assert bundle["total"] == len(bundle["entry"]) >= 81
    assert any(e["resource"].get("version") == "sssom-1" for e in bundle["entry"])
    for entry in bundle["entry"]:
        ConceptMap.model_validate(entry["resource"])
        read = fhir_world.client.get(f"/fhir/ConceptMap/{entry['resource']['id']}").json()
        ConceptMap.model_validate(read)


def test_code_system_read_and_search(fhir_world: World) -> None:
    from fhir.resources.R4B.codesystem import CodeSystem

    client = fhir_world.client
    bundle = client.get("/fhir/CodeSystem", params={"url": "urn:samu"}).json()
    assert bundle["type"] == "searchset" and bundle["total"] == 2
    versions = {entry["resource"]["version"]: entry["resource"] for entry in bundle["entry"]}
    assert versions["1.9"]["count"] == 286 and versions["2.3"]["count"] == 357
    read = client.get(f"/fhir/CodeSystem/{versions['2.3']['id']}").json()
    CodeSystem.model_validate(read)
    assert read["content"] == "not-present" and read["url"] == "urn:samu"
    paged = client.get("/fhir/CodeSystem", params={"_count": 1}).json()
    assert len(paged["entry"]) == 1 and any(link["relation"] == "next" for link in paged["link"])
    assert client.get("/fhir/CodeSystem/424242").status_code == 404
    assert (
        client.get("/fhir/CodeSystem", params={"colour": "red"}).json()["issue"][0]["code"] == "not-supported"
    )


def test_concept_map_exports_by_content_negotiation(fhir_world: World, tmp_path) -> None:  # type: ignore[no-untyped-def]
    import csv
    import io

    from sssom.parsers import parse_sssom_table

    stored = publish(fhir_world.store, fhir_world.project, status="active")
    client = fhir_world.client
    sssom = client.get(f"/fhir/ConceptMap/{stored.id}", headers={"Accept": "text/tab-separated-values"})
    assert sssom.status_code == 200 and sssom.headers["content-type"].startswith("text/tab-separated-values")
    path = tmp_path / "map.sssom.tsv"
    path.write_text(sssom.text, encoding="utf-8")
    assert_passes_sssom_validate(path)
    frame = parse_sssom_table(path).df
    assert len(frame) == 2 and set(frame["mapping_justification"]) == {"semapv:ManualMappingCuration"}
    assert "sssom:NoTermFound" in set(frame["object_id"])  # the explicit "no map"
    table = client.get(f"/fhir/ConceptMap/{stored.id}", params={"_format": "csv"})
    rows = list(csv.DictReader(io.StringIO(table.text)))
    assert {(r["source_code"], r["target_code"], r["equivalence"]) for r in rows} == {
        ("C02.05.03", "C02.18.00", "equivalent"),
        ("C04.01.00", "", "unmatched"),
    }
    hl7 = conceptmaps.search_concept_maps(fhir_world.store, url="http://hl7.org/fhir/ConceptMap/101")[0]
    imported = client.get(f"/fhir/ConceptMap/{hl7.id}", params={"_format": "sssom"}).text
    (tmp_path / "hl7.sssom.tsv").write_text(imported, encoding="utf-8")
    assert_passes_sssom_validate(tmp_path / "hl7.sssom.tsv")  # http:// systems
    assert "semapv:UnspecifiedMatching" in imported  # not curated here: not claimed as curated
    refused = client.get(f"/fhir/ConceptMap/{stored.id}", headers={"Accept": "application/xml"})
    assert refused.status_code == 406 and refused.json()["resourceType"] == "OperationOutcome"
    unknown = client.get(f"/fhir/ConceptMap/{stored.id}", params={"_format": "turtle"})
    assert unknown.status_code == 400


def test_diff_between_two_published_versions(fhir_world: World) -> None:
    first = publish(fhir_world.store, fhir_world.project, status="active", version="20260101000000")
    row = curation.get_row(fhir_world.store, fhir_world.project, "C02.05.03")
    reviewer, author = Actor(name="reviewer", role=Role.REVIEWER), Actor(name="author", role=Role.AUTHOR)
    for decision, actor in (
        (Decision(action="reopen"), author),
        (Decision(action="map", targets=(Target(code="C02.16.00", equivalence="wider"),)), author),
        (Decision(action="submit"), author),
        (Decision(action="accept"), reviewer),
    ):
        after = decide(row, decision, actor)
        row = curation.save_decision(fhir_world.store, row, after, action=decision.action)
    second = publish(fhir_world.store, fhir_world.project, status="active", version="20260102000000")
    answer = fhir_world.client.get(f"/api/conceptmaps/{first.id}/diff/{second.id}")
    assert answer.status_code == 200  # published content is public
    body = answer.json()
    assert body["counts"] == {"added": 0, "removed": 0, "changed": 1}
    change = body["changes"][0]
    assert change["source_code"] == "C02.05.03"
    assert change["before"] == [["C02.18.00", "equivalent"]] and change["after"] == [["C02.16.00", "wider"]]
    missing = fhir_world.client.get(f"/api/conceptmaps/{first.id}/diff/999999")
    assert missing.status_code == 404 and missing.json()["code"] == "not-found"


def test_publishing_through_the_api_needs_a_reviewer(fhir_world: World) -> None:
    url = f"/api/projects/{fhir_world.project.id}/publish"
    assert fhir_world.client.post(url).status_code == 401
    assert fhir_world.client.post(url, headers=fhir_world.as_("author")).status_code == 403
    done = fhir_world.client.post(url, headers=fhir_world.as_("reviewer"))
    assert done.status_code == 200 and done.json()["elements"] == 2 and done.json()["status"] == "active"
    served = fhir_world.client.get(done.json()["fhir"]).json()  # reading it needs no token
    assert served["publisher"] == "Concordance (reviewer)" and served["version"] == done.json()["version"]


def test_validate_code_in_a_stored_code_system(fhir_world: World) -> None:
    client = fhir_world.client
    path = "/fhir/CodeSystem/$validate-code"
    display = "Atteinte aux personnesPsychiatrique"
    good = client.get(
        path, params={"url": "urn:samu", "version": "1.9", "code": "C02.05.03", "display": display}
    )
    assert good.status_code == 200 and good.headers["content-type"].startswith(FHIR)
    found = params(good.json())
    assert found["result"][0]["valueBoolean"] is True and "issues" not in found
    assert found["display"][0]["valueString"] == display and found["version"][0]["valueString"] == "1.9"
    synonym = params(client.get(path, params={"url": "urn:samu|1.9", "code": "C02.05.03",
                                              "display": "Psychiatrique"}).json())  # fmt: skip
    assert synonym["result"][0]["valueBoolean"] is True  # a designation is a correct display
    wrong = params(
        client.get(
            path, params={"url": "urn:samu", "version": "1.9", "code": "C02.05.03", "display": "Chute"}
        ).json()
    )
    assert wrong["result"][0]["valueBoolean"] is False
    issue = wrong["issues"][0]["resource"]["issue"][0]
    assert issue["expression"] == ["display"] and issue["details"]["coding"][0]["code"] == "invalid-display"
    assert wrong["message"][0]["valueString"].startswith("Wrong Display Name 'Chute' for urn:samu#C02.05.03")
    unknown = params(client.get(path, params={"url": "urn:samu", "version": "1.9", "code": "NOPE"}).json())
    assert unknown["result"][0]["valueBoolean"] is False
    assert (
        unknown["message"][0]["valueString"]
        == "Unknown code 'NOPE' in the CodeSystem 'urn:samu' version '1.9'"
    )
    no_system = client.get(path, params={"url": "urn:nowhere", "code": "x"})
    assert no_system.status_code == 200  # an answer about the code, not a missing resource
    assert params(no_system.json())["x-caused-by-unknown-system"][0]["valueCanonical"] == "urn:nowhere"
    no_version = params(client.get(path, params={"url": "urn:samu", "version": "0.1", "code": "x"}).json())
    assert no_version["message"][0]["valueString"].endswith("Valid versions: 1.9 or 2.3")
    coding = params(client.get(path, params={"coding": "urn:samu|C02.18.00"}).json())
    assert coding["result"][0]["valueBoolean"] is True  # the newest version answers
    assert coding["version"][0]["valueString"] == "2.3"
    gone = params(client.get(path, params={"coding": "urn:samu|C02.05.03"}).json())
    assert gone["result"][0]["valueBoolean"] is False  # not in 2.3
    posted = client.post(path, json={"resourceType": "Parameters", "parameter": [
        {"name": "codeableConcept", "valueCodeableConcept": {"coding": [
            {"system": "urn:samu", "code": "NOPE"}, {"system": "urn:samu", "code": "C02.18.00"}]}}]})  # fmt: skip
    assert params(posted.json())["result"][0]["valueBoolean"] is True  # one valid coding is enough
    bad_coding = params(client.post(path, json={"resourceType": "Parameters", "parameter": [
        {"name": "coding", "valueCoding": {"system": "urn:samu", "code": "NOPE"}}]}).json())  # fmt: skip
    assert bad_coding["issues"][0]["resource"]["issue"][0]["expression"] == ["Coding.code"]
    for query, status in (
        ({"code": "x"}, 400),
        ({"url": "urn:samu", "code": "x", "coding": "urn:samu|x"}, 400),
    ):
        refused = client.get(path, params=query)
        assert refused.status_code == status and refused.json()["resourceType"] == "OperationOutcome"


def test_validate_code_warns_of_an_inactive_concept_sent_with_the_request(fhir_world: World) -> None:
    system = {"resourceType": "CodeSystem", "url": "urn:local", "version": "2", "status": "active",
              "content": "complete", "concept": [
                  {"code": "old", "display": "Old", "property": [{"code": "inactive", "valueBoolean": True}]}]}  # fmt: skip
    answer = fhir_world.client.post("/fhir/CodeSystem/$validate-code", json={"resourceType": "Parameters",
        "parameter": [{"name": "tx-resource", "resource": system}, {"name": "url", "valueUri": "urn:local"},
                      {"name": "code", "valueCode": "old"}]})  # fmt: skip
    found = params(answer.json())
    assert found["result"][0]["valueBoolean"] is True and found["inactive"][0]["valueBoolean"] is True
    issue = found["issues"][0]["resource"]["issue"][0]
    assert issue["severity"] == "warning" and "has a status of inactive" in issue["details"]["text"]


def test_value_set_expand_and_validate_code_over_a_stored_code_system(fhir_world: World) -> None:
    client = fhir_world.client
    value_set = {"resourceType": "ValueSet", "url": "urn:example:vs:psy", "version": "1", "status": "active",
                 "compose": {"include": [{"system": "urn:samu", "version": "2.3", "filter": [
                     {"property": "display", "op": "regex", "value": ".*psychiatrique.*"}]}]}}  # fmt: skip
    body = {"resourceType": "Parameters", "parameter": [{"name": "valueSet", "resource": value_set}]}
    expanded = client.post("/fhir/ValueSet/$expand", json=body)
    assert expanded.status_code == 200 and expanded.headers["content-type"].startswith(FHIR)
    contains = expanded.json()["expansion"]["contains"]
    assert {
        "system": "urn:samu",
        "code": "C02.18.00",
        "display": "Problème psychiatrique, menace de suicide",
    } in contains
    sent = {"resourceType": "Parameters", "parameter": [
        {"name": "tx-resource", "resource": value_set}, {"name": "url", "valueUri": "urn:example:vs:psy"},
        {"name": "system", "valueUri": "urn:samu"}, {"name": "code", "valueCode": "C02.18.00"}]}  # fmt: skip
    inside = params(client.post("/fhir/ValueSet/$validate-code", json=sent).json())
    assert inside["result"][0]["valueBoolean"] is True and inside["version"][0]["valueString"] == "2.3"
    sent["parameter"][-1] = {"name": "code", "valueCode": "C02.16.00"}
    outside = params(client.post("/fhir/ValueSet/$validate-code", json=sent).json())
    assert outside["result"][0]["valueBoolean"] is False
    assert outside["issues"][0]["resource"]["issue"][0]["details"]["coding"][0]["code"] == "not-in-vs"
    unknown = client.get("/fhir/ValueSet/$expand", params={"url": "urn:nowhere"})
    assert unknown.status_code == 404 and unknown.json()["resourceType"] == "OperationOutcome"
    broken = {**value_set, "compose": {"include": [{"system": "urn:samu", "filter": [
        {"property": "concept", "op": "is-a"}]}]}}  # fmt: skip
    refused = client.post("/fhir/ValueSet/$expand", json={"resourceType": "Parameters",
                                                          "parameter": [{"name": "valueSet", "resource": broken}]})  # fmt: skip
    assert refused.status_code == 400 and "has no value" in refused.json()["issue"][0]["details"]["text"]
    missing = client.get("/fhir/ValueSet/$validate-code", params={"code": "x"})
    assert missing.status_code == 400 and missing.json()["resourceType"] == "OperationOutcome"


def test_translate_tells_an_unknown_system_from_a_code_without_mapping(fhir_world: World) -> None:
    stored = publish(fhir_world.store, fhir_world.project, status="active")
    client = fhir_world.client

    def message(**asked: str) -> str:
        answer = client.get("/fhir/ConceptMap/$translate", params={"url": stored.url, **asked}).json()
        assert params(answer)["result"][0]["valueBoolean"] is False
        return str(params(answer)["message"][0]["valueString"])

    unknown = message(system="http://loinc.org", code="2345-7")
    assert unknown == (
        f"The code system http://loinc.org is not a source of the ConceptMap consulted "
        f"({stored.url}|{stored.version}): no mapping for http://loinc.org|2345-7"
    )
    assert message(system="urn:samu", code="C02.16.02") == "No mappings could be found for urn:samu|C02.16.02"
    towards = message(system="urn:samu", code="C02.05.03", targetsystem="http://snomed.info/sct")
    assert (
        towards.startswith("No ConceptMap consulted") and "maps urn:samu to http://snomed.info/sct" in towards
    )
    backwards = message(system="http://loinc.org", code="2345-7", reverse="true")
    assert "is not a target of the ConceptMap consulted" in backwards


def test_a_published_map_is_scoped_by_value_sets_as_r4_requires(fhir_world: World) -> None:
    stored = publish(fhir_world.store, fhir_world.project, status="active")
    served = fhir_world.client.get(f"/fhir/ConceptMap/{stored.id}").json()
    assert served["sourceCanonical"] == served["targetCanonical"] == "urn:samu?fhir_vs"
    assert "sourceUri" not in served and served["group"][0]["source"] == "urn:samu"
    for scope in ("urn:samu?fhir_vs", "urn:samu"):  # the value set, or its code system as clients ask
        answer = fhir_world.client.get(
            "/fhir/ConceptMap/$translate", params={"source": scope, "system": "urn:samu", "code": "C02.05.03"}
        ).json()
        assert params(answer)["result"][0]["valueBoolean"] is True, scope
    by_value_set = fhir_world.client.get("/fhir/ConceptMap", params={"source-uri": "urn:samu?fhir_vs"}).json()
    assert stored.id in {int(entry["resource"]["id"]) for entry in by_value_set["entry"]}
