"""Property rules on real SAMU-Hub codes, and rule files of every kind."""

from __future__ import annotations

from pathlib import Path

import pytest

from terminology.importers import importer_class
from terminology.importing import import_code_system
from terminology.matching.engine import match
from terminology.matching.property_rules import PropertyRule
from terminology.matching.rule_files import RuleFileError
from terminology.matching.rules import load_rules
from terminology.models import CodeSystemMetadata
from terminology.storage.store import SqlStore

OLD = "code,display,field\nL01.02.00,Base ou enceinte aérienne militaire,Type de lieu\n"
NEW = (
    "code,display,field\nL01.03.00,Aéroport / aérodrome,Type de lieu\n"
    "M12.04.00,Convulsions - Chez la femme enceinte,Motif de recours médico secouriste\n"
)


def systems(store: SqlStore, tmp_path: Path):
    found = []
    for version, text in (("1", OLD), ("2", NEW)):
        path = tmp_path / f"samu-{version}.csv"
        path.write_text(text, encoding="utf-8")
        metadata = CodeSystemMetadata(url="urn:samu", version=version, language="fr")
        found.append(
            import_code_system(
                store, importer_class("csv").with_options({}), path, overrides=metadata
            ).code_system
        )
    return found


def test_require_equal_drops_pairs_across_fields(store: SqlStore, tmp_path: Path) -> None:
    old, new = systems(store, tmp_path)
    unconstrained = {c.target_code for c in match(store, old, new, min_score=0.0)}
    assert unconstrained == {"L01.03.00", "M12.04.00"}
    rule = PropertyRule(id="samu-same-field", property="field", effect="require-equal")
    constrained = match(store, old, new, min_score=0.0, property_rules=[rule])
    assert [c.target_code for c in constrained] == ["L01.03.00"]


def test_boost_raises_agreeing_pairs_and_says_so(store: SqlStore, tmp_path: Path) -> None:
    old, new = systems(store, tmp_path)
    plain = {c.target_code: c for c in match(store, old, new, min_score=0.0)}
    rule = PropertyRule(id="same-field-boost", property="field", effect="boost", boost=0.1)
    boosted = {c.target_code: c for c in match(store, old, new, min_score=0.0, property_rules=[rule])}
    assert boosted["L01.03.00"].score == pytest.approx(min(plain["L01.03.00"].score + 0.1, 1.0), abs=1e-4)
    assert boosted["L01.03.00"].reason.endswith("rule same-field-boost +0.1")
    assert boosted["M12.04.00"].score == plain["M12.04.00"].score


@pytest.mark.parametrize(
    ("text", "line", "message"),
    [
        (
            "kind: property-rules\nrules:\n  - id: a\n    property: field\n    effect: boost\n",
            3,
            "needs a boost amount",
        ),
        (
            "kind: property-rules\nrules:\n  - id: a\n    property: field\n    effect: forbid\n",
            5,
            "Input should be",
        ),
        ("kind: label-magic\nrules: []\n", 1, "kind must be one of"),
    ],
)
def test_broken_property_rule_files(tmp_path: Path, text: str, line: int, message: str) -> None:
    path = tmp_path / "rules.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(RuleFileError, match=message) as caught:
        load_rules([path])
    assert caught.value.line == line and str(caught.value).startswith(f"{path}:{line}:")


def test_specimen_in_a_local_lab_label_must_agree_with_loinc_system(store: SqlStore, tmp_path: Path) -> None:
    from tests.conftest import FIXTURES

    loinc = import_code_system(
        store,
        importer_class("loinc").with_options({}),
        FIXTURES / "loinc" / "Loinc.csv",
        overrides=CodeSystemMetadata(version="2.80"),
    ).code_system
    local = tmp_path / "labo.csv"
    local.write_text(
        "code,display\nGLY-SG,Glucose sang\nGLY-SER,Glucose sérum\nK,Potassium\n", encoding="utf-8"
    )
    labo = import_code_system(
        store,
        importer_class("csv").with_options({}),
        local,
        overrides=CodeSystemMetadata(url="urn:chu:labo", version="1", language="fr"),
    ).code_system
    rules = load_rules([Path(__file__).resolve().parents[3] / "mapping_rules" / "rules" / "lab_loinc.yaml"])
    found = match(store, labo, loinc, min_score=0.0, property_rules=rules.properties)
    by_source: dict[str, list[str]] = {}
    for candidate in found:
        by_source.setdefault(candidate.source_code, []).append(candidate.target_code)
    assert by_source["GLY-SG"][0] == "15074-8" and "14749-6" not in by_source["GLY-SG"]  # Bld, not Ser/Plas
    assert by_source["GLY-SER"][0] == "14749-6" and "15074-8" not in by_source["GLY-SER"]
    assert "2823-3" in by_source["K"]  # no specimen named: nothing is constrained
