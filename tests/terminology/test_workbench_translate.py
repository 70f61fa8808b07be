"""The notebooks' translate is ``$translate``: on every bundled map (and the HL7 test
runner's translate cases), for every source code, forwards and in reverse, with unmapped
modes and a target system, the Python API gives the matches the FHIR operation gives."""

from __future__ import annotations

import json
from collections.abc import Iterator

import polars as pl
import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from terminology import Concordance
from terminology.services.concept_maps import save_concept_map
from terminology.settings import Settings
from terminology.storage import conceptmaps
from terminology.storage.store import SqlStore
from tests.conftest import FIXTURES

CASES = FIXTURES / "hl7_tx_ecosystem" / "translate"


@pytest.fixture
def served(store: SqlStore, database_url: str) -> Iterator[tuple[Concordance, TestClient]]:
    concordance = Concordance(store=store)
    concordance.load_bundled_maps()
    save_concept_map(store, json.loads((CASES / "ConceptMap-full.json").read_text(encoding="utf-8")))
    with TestClient(create_app(Settings(database_url=database_url))) as client:
        yield concordance, client


def fhir_matches(client: TestClient, params: dict[str, str]) -> set[tuple[str, str | None]]:
    answer = client.get("/fhir/ConceptMap/$translate", params=params).json()
    found = set()
    for parameter in answer["parameter"]:
        if parameter["name"] == "match":
            parts = {part["name"]: part for part in parameter["part"]}
            coding = parts.get("concept", {}).get("valueCoding", {})
            found.add((parts["equivalence"]["valueCode"], coding.get("code")))
    return found


def python_matches(rows: pl.DataFrame, code: str) -> set[tuple[str, str | None]]:
    picked = rows.filter(pl.col("code") == code).filter(pl.col("equivalence").is_not_null())
    return set(picked.select("equivalence", "target_code").iter_rows())


def test_every_bundled_map_translates_as_the_fhir_operation_does(
    served: tuple[Concordance, TestClient],
) -> None:
    concordance, client = served
    compared = 0
    for stored in conceptmaps.search_concept_maps(concordance.store):
        for group in stored.resource.get("group", []):
            source, target = group.get("source"), group.get("target")
            codes = sorted({e["code"] for e in group.get("element", []) if e.get("code")} | {"NOT-A-CODE"})
            targets = sorted(
                {t["code"] for e in group.get("element", []) for t in e.get("target", []) if t.get("code")}
            )
            ask = {"url": stored.url, "conceptMapVersion": stored.version}
            rows = concordance.translate(codes, system=source, url=stored.id, every_target=True)
            for code in codes:
                expected = fhir_matches(client, {**ask, "system": source, "code": code})
                assert python_matches(rows, code) == expected, (stored.url, code)
                compared += 1
            if target and targets:
                back = concordance.translate(
                    targets, system=target, url=stored.id, reverse=True, every_target=True
                )
                for code in targets:
                    expected = fhir_matches(
                        client, {**ask, "system": target, "code": code, "reverse": "true"}
                    )
                    assert python_matches(back, code) == expected, (stored.url, "reverse", code)
                    compared += 1
    assert compared > 1_000


def test_the_hl7_translate_cases(served: tuple[Concordance, TestClient]) -> None:
    concordance, _ = served
    url = json.loads((CASES / "ConceptMap-full.json").read_text(encoding="utf-8"))["url"]
    source, target = (
        "http://hl7.org/fhir/test/CodeSystem/source",
        "http://hl7.org/fhir/test/CodeSystem/target",
    )
    for name, rows in (
        ("translate-1", concordance.translate(["code-1"], system=source, url=url, target_system=target, every_target=True)),
        ("translate-reverse", concordance.translate(["code1"], system=target, url=url, reverse=True, every_target=True)),
    ):  # fmt: skip
        expected = json.loads((CASES / f"{name}-response-parameters.json").read_text(encoding="utf-8"))
        wanted = set()
        for parameter in expected["parameter"]:
            if parameter["name"] == "match":
                parts = {part["name"]: part for part in parameter["part"]}
                # R5 names: in reverse, "source" is the coding found and "concept" the one asked
                found = parts["source"] if name.endswith("reverse") else parts["concept"]
                coding = found.get("valueCoding", {})
                wanted.add(
                    (
                        parts.get("equivalence", parts.get("relationship", {})).get("valueCode"),
                        coding.get("code"),
                    )
                )
        got = set(rows.select("equivalence", "target_code").iter_rows())
        assert {code for _, code in got} == {code for _, code in wanted}, name


def test_by_default_each_input_keeps_its_closest_match(served: tuple[Concordance, TestClient]) -> None:
    concordance, _ = served
    samu = "urn:concordance:codesystem:samu-hub-nomenclature"
    column = pl.Series("code", ["C02.05.03", "NOT-A-CODE"] * 1_000)
    rows = concordance.translate(
        column, system=samu, url="urn:concordance:ConceptMap:samu-hub-nomenclature-1.9-2.3"
    )
    assert rows.height == column.len() and rows["code"].to_list() == column.to_list()
    assert rows.filter(pl.col("code") == "NOT-A-CODE")["mapped"].unique().to_list() == [False]
