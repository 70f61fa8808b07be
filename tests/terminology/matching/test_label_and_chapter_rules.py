"""Label rewrites and chapter correspondences, on real CIM-10 / CIM-11 labels and chapters."""

from __future__ import annotations

from pathlib import Path

import pytest

from terminology.importers import importer_class
from terminology.matching.chapter_rules import roots
from terminology.matching.engine import match
from terminology.matching.frames import VersionFrames
from terminology.matching.rule_files import RuleFileError
from terminology.matching.rules import load_rules
from terminology.models import CodeSystemMetadata
from terminology.services.importing import import_code_system
from terminology.storage.store import SqlStore

RULES = Path(__file__).resolve().parents[3] / "mapping_rules" / "rules"
INFECTIOUS = "http://id.who.int/icd/entity/1435254666"
NERVOUS = "http://id.who.int/icd/entity/1296093776"

# Real CIM-11 MMS entities and labels (data/cim11_fr), a few levels deep.
CIM11 = f"""code,display,parent
{INFECTIOUS},Certaines maladies infectieuses ou parasitaires,
1B1,Tuberculose,{INFECTIOUS}
1B12.4,"Tuberculose miliaire aigüe, localisation non précisée",1B1
1B2,Lèpre SAI,{INFECTIOUS}
{NERVOUS},Maladies du système nerveux,
8B11,Accident vasculaire cérébral ischémique,{NERVOUS}
8B2,Épilepsie ou crises épileptiques,{NERVOUS}
"""
# Real CIM-10 codes and French labels (data/cim10_fr), with their chapters.
CIM10 = """code,display,parent
I,Certaines maladies infectieuses et parasitaires,
A19,Tuberculose miliaire,I
A19.9,"Tuberculose miliaire, sans précision",A19
A30.9,"Lèpre, sans précision",I
VI,Maladies du système nerveux,
G40,Épilepsie,VI
IX,Maladies de l'appareil circulatoire,
I63,Infarctus cérébral,IX
XIX,"Lésions traumatiques, empoisonnements et certaines autres conséquences de causes externes",
T36,Intoxication par antibiotiques systémiques,XIX
Z99,Tuberculose miliaire (lieu de soins),XIX
"""


def load(store: SqlStore, tmp_path: Path, name: str, text: str, url: str):
    path = tmp_path / f"{name}.csv"
    path.write_text(text, encoding="utf-8")
    metadata = CodeSystemMetadata(url=url, version="1", language="fr", name=name)
    importer = importer_class("csv").with_options({"parent_column": "parent"})
    return import_code_system(store, importer, path, overrides=metadata).code_system


def test_roots_are_the_chapters(store: SqlStore, tmp_path: Path) -> None:
    cim11 = load(store, tmp_path, "cim11", CIM11, "urn:cim11")
    found = dict(roots(VersionFrames.read(store, cim11)).iter_rows())
    assert found["1B12.4"] == INFECTIOUS and found["8B11"] == NERVOUS and found[INFECTIOUS] == INFECTIOUS


def test_rewrites_and_chapters_shape_the_cim11_to_cim10_candidates(store: SqlStore, tmp_path: Path) -> None:
    cim11 = load(store, tmp_path, "cim11", CIM11, "urn:cim11")
    cim10 = load(store, tmp_path, "cim10", CIM10, "urn:cim10")
    rules = load_rules([RULES / "cim11_cim10_chapters.yaml", RULES / "cim11_cim10_labels.yaml"])

    def proposals(**options: object) -> dict[str, list]:
        by_source: dict[str, list] = {}
        for candidate in match(store, cim11, cim10, min_score=0.0, **options):  # type: ignore[arg-type]
            by_source.setdefault(candidate.source_code, []).append(candidate)
        return by_source

    plain = proposals()
    ruled = proposals(label_rewrites=rules.rewrites, chapter_rules=rules.chapters)
    assert "Z99" in {c.target_code for c in plain["1B12.4"]}  # a look-alike from another chapter
    assert "Z99" not in {c.target_code for c in ruled["1B12.4"]}  # chapter 01 never maps to XIX
    best = ruled["1B12.4"][0]
    assert best.target_code == "A19.9" and "cim11-non-precise" in best.rules
    assert "rewritten by cim11-non-precise" in best.reason
    assert best.score > next(c.score for c in plain["1B12.4"] if c.target_code == "A19.9")
    leprosy = ruled["1B2"][0]
    assert leprosy.target_code == "A30.9" and leprosy.rules[0] == "cim11-sai"
    stroke = {c.target_code for c in ruled["8B11"]}
    assert "I63" in stroke  # stroke left circulatory diseases for chapter 08: IX stays allowed
    assert all(c.source_label == c.source_label.strip() for c in ruled["1B12.4"])
    assert ruled["1B12.4"][0].source_label.endswith("localisation non précisée")  # curators see the original


# The same CIM-10 extract cut as the bundled file once was: block A92-A99 (and so "Fièvre
# jaune") named as a parent but never defined, imported with unknown_parents=drop.
CIM10_CUT = (
    CIM10
    + """A92-A99,"Fièvres virales transmises par des arthropodes",MISSING
A95,Fièvre jaune,A92-A99
A95.9,"Fièvre jaune, sans précision",A95
"""
).replace('A92-A99,"Fièvres virales transmises par des arthropodes",MISSING\n', "")
YELLOW_FEVER = f"{CIM11}1D47,Fièvre jaune,{INFECTIOUS}\n1D4,Fièvre des tranchées,{INFECTIOUS}\n"


def test_chapter_rule_fails_open_on_a_target_cut_from_its_chapter(store: SqlStore, tmp_path: Path) -> None:
    cim11 = load(store, tmp_path, "cim11", YELLOW_FEVER, "urn:cim11")
    path = tmp_path / "cim10.csv"
    path.write_text(CIM10_CUT, encoding="utf-8")
    importer = importer_class("csv").with_options({"parent_column": "parent", "unknown_parents": "drop"})
    metadata = CodeSystemMetadata(url="urn:cim10", version="1", language="fr", name="cim10")
    report = import_code_system(store, importer, path, overrides=metadata)
    assert report.hierarchy.missing_parents == ("A92-A99",) and report.hierarchy.cut_from_root == 2
    rules = load_rules([RULES / "cim11_cim10_chapters.yaml"])
    found = match(store, cim11, report.code_system, chapter_rules=rules.chapters)
    yellow = [c.target_code for c in found if c.source_code == "1D47"]
    assert yellow[0] == "A95"  # its chapter unknown, A95 is kept, and first
    tuberculosis = {c.target_code for c in found if c.source_code == "1B12.4"}
    assert "Z99" not in tuberculosis  # a target in a known chapter that is not allowed still goes


def test_a_same_label_target_is_always_a_candidate_whatever_the_rules(
    store: SqlStore, tmp_path: Path
) -> None:
    # A chapter file that sends chapter 01 to chapter VI only (and names I for chapter 08, so
    # I is a chapter it knows): A95, in chapter I, would leave it.
    cim11 = load(store, tmp_path, "cim11", YELLOW_FEVER, "urn:cim11")
    cim10 = load(store, tmp_path, "cim10", CIM10 + "A95,FIÈVRE  jaune,I\nG04,Encéphalite,VI\n", "urn:cim10")
    strict = tmp_path / "strict.yaml"
    strict.write_text(
        f"kind: chapter-correspondence\nid: strict\nchapters:\n  - {{source: '{INFECTIOUS}', target: [VI]}}\n"
        f"  - {{source: '{NERVOUS}', target: [I, VI, IX, XIX]}}\n",
        encoding="utf-8",
    )
    rules = load_rules([strict])
    found = match(store, cim11, cim10, chapter_rules=rules.chapters, top_k=1, min_score=0.99)
    yellow = {c.target_code: c for c in found if c.source_code == "1D47"}
    assert "A95" in yellow and "same label as the source" in yellow["A95"].reason
    miliary = {c.target_code for c in found if c.source_code == "1B12.4"}
    assert miliary <= {"G40", "G04"}  # the rule still holds where labels differ


@pytest.mark.parametrize(
    ("text", "line", "message"),
    [
        (
            "kind: label-rewrites\nrules:\n  - id: bad\n    pattern: '(unclosed'\n",
            4,
            "not a regular expression",
        ),
        ("kind: label-rewrites\nrules:\n  - id: x\n    pattern: a\n    side: left\n", 5, "Input should be"),
        (
            "kind: chapter-correspondence\nid: c\nchapters:\n  - {source: A, target: [I]}\n"
            "  - {source: A, target: [II]}\n",
            4,
            "source chapter listed twice: A",
        ),
        ("kind: chapter-correspondence\nid: c\nchapters:\n  - {source: A, target: []}\n", 4, "at least 1"),
    ],
)
def test_broken_rewrite_and_chapter_files(tmp_path: Path, text: str, line: int, message: str) -> None:
    path = tmp_path / "rules.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(RuleFileError) as caught:
        load_rules([path])
    assert caught.value.line == line and message in str(caught.value)
    assert str(caught.value).startswith(f"{path}:{line}:")
