"""Property rules on real SAMU-Hub codes, and rule files of every kind."""

from __future__ import annotations

from pathlib import Path

import pytest

from terminology.importers import importer_class
from terminology.matching.engine import match
from terminology.matching.property_rules import PropertyRule
from terminology.matching.rule_files import RuleFileError
from terminology.matching.rules import load_rules
from terminology.models import CodeSystemMetadata
from terminology.services.importing import import_code_system
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


GLUCOSE_LOINC = [
    # real LOINC codes and axes (LOINC_NUM, COMPONENT, PROPERTY, SYSTEM, SCALE_TYP, long common name)
    ("2345-7", "Glucose", "MCnc", "Ser/Plas", "Qn", "Glucose [Mass/volume] in Serum or Plasma"),
    ("14749-6", "Glucose", "SCnc", "Ser/Plas", "Qn", "Glucose [Moles/volume] in Serum or Plasma"),
    ("2350-7", "Glucose", "MCnc", "Urine", "Qn", "Glucose [Mass/volume] in Urine"),
    ("2349-9", "Glucose", "PrThr", "Urine", "Ord", "Glucose [Presence] in Urine"),
]


def glucose_loinc(store: SqlStore, tmp_path: Path):
    from tests.conftest import FIXTURES

    header = (FIXTURES / "loinc" / "Loinc.csv").read_text(encoding="utf-8").splitlines()[0]
    columns = [name.strip('"') for name in header.split(",")]
    lines = [header]
    for code, component, prop, system, scale, name in GLUCOSE_LOINC:
        values = dict.fromkeys(columns, "")
        values.update(
            LOINC_NUM=code, COMPONENT=component, PROPERTY=prop, TIME_ASPCT="Pt", SYSTEM=system,
            SCALE_TYP=scale, STATUS="ACTIVE", LONG_COMMON_NAME=name, CLASS="CHEM",
        )  # fmt: skip
        lines.append(",".join(f'"{values[column]}"' for column in columns))
    path = tmp_path / "Loinc.csv"
    path.write_text("\r\n".join(lines) + "\r\n", encoding="utf-8")
    return import_code_system(
        store, importer_class("loinc").with_options({}), path, overrides=CodeSystemMetadata(version="2.80")
    ).code_system


def local_list(store: SqlStore, tmp_path: Path, text: str):
    path = tmp_path / "labo.csv"
    path.write_text(text, encoding="utf-8")
    metadata = CodeSystemMetadata(url="urn:chu:labo", version="1", language="fr")
    return import_code_system(
        store, importer_class("csv").with_options({}), path, overrides=metadata
    ).code_system


def proposals(store: SqlStore, source, target, rules) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for candidate in match(store, source, target, min_score=0.0, property_rules=rules.properties):
        found.setdefault(candidate.source_code, []).append(candidate.target_code)
    return found


LAB_RULES = Path(__file__).resolve().parents[3] / "mapping_rules" / "rules" / "lab_loinc.yaml"


def test_unit_in_the_label_gives_the_loinc_property_and_scale(store: SqlStore, tmp_path: Path) -> None:
    loinc = glucose_loinc(store, tmp_path)
    labo = local_list(
        store,
        tmp_path,
        "code,display\nGLU-M,Glucose sérum g/L\nGLU-S,Glucose sérum mmol/L\n"
        "GLU-U,Recherche de glucose dans les urines\nGLU-UQ,Glucose urines g/L\nGLU,Glucose\n",
    )
    found = proposals(store, labo, loinc, load_rules([LAB_RULES]))
    assert found["GLU-M"] == ["2345-7"]  # MCnc, serum: not SCnc, not urine
    assert found["GLU-S"] == ["14749-6"]
    assert found["GLU-U"] == ["2349-9"]  # a presence, not a quantity
    assert found["GLU-UQ"] == ["2350-7"]  # a quantity, in urine
    assert set(found["GLU"]) == {code for code, *_ in GLUCOSE_LOINC}  # says nothing: nothing is dropped


def test_a_unit_column_is_translated_to_the_loinc_property(store: SqlStore, tmp_path: Path) -> None:
    loinc = glucose_loinc(store, tmp_path)
    labo = local_list(
        store,
        tmp_path,
        "code,display,unit\nG1,Glycémie,mmol/L\nG2,Glycémie,g/L\nG3,Glycémie,%\n",
    )
    found = proposals(store, labo, loinc, load_rules([LAB_RULES]))
    assert "14749-6" in found["G1"] and not {"2345-7", "2350-7"} & set(found["G1"])
    assert "2345-7" in found["G2"] and "14749-6" not in found["G2"]
    assert {"2345-7", "14749-6"} <= set(found["G3"])  # a unit the table does not know constrains nothing


def test_a_rule_cannot_both_read_the_label_and_translate(tmp_path: Path) -> None:
    path = tmp_path / "both.yaml"
    path.write_text(
        "kind: property-rules\nrules:\n  - id: both\n    property: PROPERTY\n    effect: require-equal\n"
        "    from_label: {g/l: [MCnc]}\n    values: {g/L: [MCnc]}\n",
        encoding="utf-8",
    )
    with pytest.raises(RuleFileError) as caught:
        load_rules([path])
    assert caught.value.line == 3 and "not both" in str(caught.value)
