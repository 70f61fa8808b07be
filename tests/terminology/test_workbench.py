"""The Python API for notebooks (``from terminology import Concordance``), on SQLite and
PostgreSQL, with the bundled data."""

from __future__ import annotations

import polars as pl
import pytest

from terminology import Concordance
from terminology.errors import ConcordanceError
from terminology.publication.translate import MapIndex, Question, translate
from terminology.review.workflow import Actor, Decision, Role, Target, decide
from terminology.services.concept_maps import save_concept_map
from terminology.storage import conceptmaps, curation, projects
from terminology.storage.store import SqlStore
from tests.conftest import ROOT

SAMU = "urn:concordance:codesystem:samu-hub-nomenclature"
CURATED = "urn:concordance:ConceptMap:samu-hub-nomenclature-1.9-2.3"
RULES = [ROOT / "mapping_rules" / "rules" / "nomenclature_upgrade.yaml"]


@pytest.fixture
def concordance(store: SqlStore) -> Concordance:
    found = Concordance(store)
    found.load(only=["SAMUNomenclature", "CIM10FR"])
    return found


def test_code_systems_and_concepts_as_dataframes(concordance: Concordance) -> None:
    systems = concordance.code_systems()
    assert sorted(systems["version"].to_list()) == ["1.9", "2.3", "5.0.4"]
    assert systems.filter(pl.col("version") == "5.0.4")["languages"].to_list() == [["fr", "en"]]
    cim10 = concordance.concepts("urn:concordance:codesystem:cim10-fr-gnuhealth")
    assert cim10.height == 14_715 and cim10["code"].n_unique() == cim10.height
    a00 = cim10.filter(pl.col("code") == "A00.0").row(0, named=True)
    assert a00["parents"] == ["A00"] and a00["depth"] == cim10.filter(pl.col("code") == "A00")["depth"][0] + 1
    assert cim10.filter(pl.col("parents").list.len() == 0)["depth"].unique().to_list() == [0]
    by_name = concordance.concepts("CIM10FR")  # a name works as a reference too
    assert by_name.height == cim10.height
    french = concordance.labels("CIM10FR").filter(pl.col("code") == "A00", pl.col("use") == "display")
    assert french["language"].to_list() == ["fr"]  # the display is in the declared language
    labels = concordance.labels(f"{SAMU}|1.9")
    assert (
        set(labels["language"].unique()) == {"fr"} and labels.filter(pl.col("use") == "display").height == 286
    )


def test_match_saves_a_project_and_its_candidates_and_rows(concordance: Concordance) -> None:
    found = concordance.match(f"{SAMU}|1.9", f"{SAMU}|2.3", rules=RULES, top_k=3, project="samu")
    assert found.height > 286 and found["score"].is_between(0, 1).all()
    stored = concordance.candidates("samu")
    assert stored.height == found.height and set(stored.columns) >= {"reason", "method", "rank"}
    decisions = concordance.decisions("samu")
    assert decisions.height == 286 and decisions["status"].unique().to_list() == ["unmapped"]
    assert concordance.projects().filter(pl.col("name") == "samu")["unmapped"].to_list() == [286]


def test_import_decisions_then_retrain(concordance: Concordance, tmp_path) -> None:
    concordance.match(f"{SAMU}|1.9", f"{SAMU}|2.3", rules=RULES, top_k=3, project="samu")
    validated = tmp_path / "validated.csv"
    validated.write_text(
        "source_code,target_code,author\nC02.05.03,C02.18.00,ana\nC04.00.00,C07.02.03,ana\n", encoding="utf-8"
    )
    assert concordance.add_member("samu", "RUI ", "reviewer") == "RUI"
    with pytest.raises(ConcordanceError, match="not a member"):
        concordance.import_decisions("samu", validated, by="ana")
    assert concordance.import_decisions("samu", validated, by="rui") == 2
    decided = concordance.decisions("samu").filter(pl.col("status") == "accepted")
    assert decided["source_code"].sort().to_list() == ["C02.05.03", "C04.00.00"]
    assert decided["reviewer"].unique().to_list() == ["RUI"]
    reranked = concordance.retrain("samu")
    assert reranked["reason"].str.contains("ranked by the project model").all()
    assert concordance.candidates("samu").height == reranked.height


def test_decisions_events_and_blind_answers(concordance: Concordance) -> None:
    concordance.match(f"{SAMU}|1.9", f"{SAMU}|2.3", rules=RULES, top_k=3, project="samu")
    store = concordance.store
    project = projects.set_review_mode(store, projects.get_project(store, "samu"), "double")
    for name, target in (("ana", "C02.18.00"), ("bruno", "C02.16.00")):
        row = curation.get_row(store, project, "C02.05.03")
        from terminology.review.double import record_answer

        after, answer = record_answer(
            row, curation.answers_for(store, project, "C02.05.03"),
            Decision(action="map", targets=(Target(code=target),)), Actor(name=name, role=Role.AUTHOR),
        )  # fmt: skip
        curation.save_decision(store, row, after, action="answer", answer=answer)
    answers = concordance.answers("samu")
    assert sorted(answers["answer"].to_list()) == ["C02.16.00", "C02.18.00"]
    assert (
        concordance.decisions("samu").filter(pl.col("source_code") == "C02.05.03")["status"][0] == "conflict"
    )
    events = concordance.events("samu")
    assert events.height == 2 and events["status_after"].to_list()[-1] == "conflict"


def test_translate_a_column_in_one_join(concordance: Concordance) -> None:
    concordance.load_bundled_maps()
    stored = conceptmaps.search_concept_maps(concordance.store, url=CURATED)[0]
    codes = [*concordance.concepts(f"{SAMU}|1.9")["code"].to_list(), "NOT-A-CODE"]
    column = pl.Series("code", codes * 500)
    translated = concordance.translate(column, system=SAMU, url=CURATED)
    assert translated.height == len(column) and translated["code"].to_list() == column.to_list()
    index = MapIndex(stored.resource)
    for code in [*codes[:40], "NOT-A-CODE"]:  # the same answers as $translate gives
        expected = [m.code for m in translate(index, Question(((SAMU, code),))) if m.code]
        got = translated.filter(pl.col("code") == code).row(0, named=True)
        assert (got["target_code"] in expected) if expected else got["target_code"] is None
    assert translated.filter(pl.col("code") == "NOT-A-CODE")["mapped"].unique().to_list() == [False]
    other = concordance.translate(["C02.05.03"], system="urn:other", url=CURATED)
    assert other["mapped"].to_list() == [False]  # a code of another system is not mapped


def test_diff_and_release_impact(concordance: Concordance) -> None:
    concordance.load_bundled_maps()
    old = conceptmaps.search_concept_maps(concordance.store, url=CURATED)[0]
    changed = {**old.resource, "version": "next"}
    changed["group"] = [{**changed["group"][0], "element": changed["group"][0]["element"][1:]}]
    new_id = save_concept_map(concordance.store, changed)[0].id
    diff = concordance.diff(old.id, new_id)
    assert diff["kind"].to_list() == ["removed"]
    assert diff["source_code"][0] == old.resource["group"][0]["element"][0]["code"]
    assert concordance.concept_maps().filter(pl.col("url") == CURATED).height == 2
    rows = concordance.concept_map(CURATED, "653aed3")
    assert rows.height >= 233 and set(rows["equivalence"].unique()) <= {"equivalent", "unmatched"}
    impact = concordance.release_impact(old.id, f"{SAMU}|2.3")
    assert impact.height == 0  # the map was built on 2.3 itself: nothing moved


def test_publish_a_project_from_python(concordance: Concordance) -> None:
    concordance.match(f"{SAMU}|1.9", f"{SAMU}|2.3", rules=RULES, top_k=3, project="samu")
    store = concordance.store
    project = projects.get_project(store, "samu")
    row = curation.get_row(store, project, "C02.05.03")
    for decision, actor in (
        (Decision(action="map", targets=(Target(code="C02.18.00"),)), Actor(name="a", role=Role.AUTHOR)),
        (Decision(action="submit"), Actor(name="a", role=Role.AUTHOR)),
        (Decision(action="accept"), Actor(name="r", role=Role.REVIEWER)),
    ):
        row = curation.save_decision(store, row, decide(row, decision, actor), action=decision.action)
    map_id = concordance.publish("samu", version="1")
    answer = concordance.translate(["C02.05.03", "C02.16.02"], system=SAMU, url=map_id)
    assert answer["target_code"].to_list() == ["C02.18.00", None]
