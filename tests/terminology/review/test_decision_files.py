"""Validated mappings held elsewhere, read as decisions: CSV, SSSOM, Usagi; bad rows named."""

from __future__ import annotations

from pathlib import Path

import pytest

from terminology.errors import SourceFileError
from terminology.review.decision_files import read_decisions, sniff_format

SSSOM = """# curie_map:
#   SAMU: urn:samu/
# mapping_set_id: urn:example:set
subject_id\tpredicate_id\tobject_id\tmapping_justification\tauthor_id
SAMU:C02.05.03\tskos:exactMatch\tSAMU:C02.18.00\tsemapv:ManualMappingCuration\torcid:0000-0001
SAMU:C04.00.00\tskos:broadMatch\tSAMU:C04.01.00\tsemapv:ManualMappingCuration\t
SAMU:C04.00.00\tskos:exactMatch\tSAMU:C04.02.00\tsemapv:ManualMappingCuration\t
SAMU:X\tskos:exactMatch\tsssom:NoTermFound\tsemapv:ManualMappingCuration\t
"""

USAGI = """sourceCode,sourceName,sourceFrequency,matchScore,mappingStatus,equivalence,statusSetBy,conceptId,conceptName
GLY,Glycémie,120,0.8,APPROVED,EQUAL,ana,3004501,Glucose [Mass/volume] in Serum or Plasma
HB,Hémoglobine,80,0.7,UNCHECKED,EQUAL,,3000963,Hemoglobin
K,Potassium,50,0.9,APPROVED,WIDER,rui,3023103,Potassium
"""


def test_csv_rows_of_one_source_become_one_decision_with_every_target(tmp_path: Path) -> None:
    path = tmp_path / "validated.csv"
    path.write_text(
        "source_code,target_code,equivalence,author\nA,T1,equivalent,ana\nA,T2,wider,ana\nB,T3,,\n",
        encoding="utf-8",
    )
    found = {d.source_code: d for d in read_decisions(path)}
    assert [(t.code, t.equivalence) for t in found["A"].targets] == [("T1", "equivalent"), ("T2", "wider")]
    assert found["A"].author == "ana" and found["A"].where == "validated.csv:2"
    assert found["B"].targets[0].equivalence == "equivalent" and found["B"].author == "import:validated.csv"


def test_sssom_predicates_become_equivalences_and_no_term_found_is_no_target(tmp_path: Path) -> None:
    path = tmp_path / "set.sssom.tsv"
    path.write_text(SSSOM, encoding="utf-8")
    assert sniff_format(path, SSSOM) == "sssom"
    found = {d.source_code: d for d in read_decisions(path)}
    assert set(found) == {"C02.05.03", "C04.00.00"}
    assert found["C02.05.03"].author == "orcid:0000-0001"
    assert [(t.code, t.equivalence) for t in found["C04.00.00"].targets] == [
        ("C04.01.00", "wider"),
        ("C04.02.00", "equivalent"),
    ]


def test_usagi_export_keeps_only_approved_rows(tmp_path: Path) -> None:
    path = tmp_path / "usagi.csv"
    path.write_text(USAGI, encoding="utf-8")
    found = {d.source_code: d for d in read_decisions(path)}
    assert set(found) == {"GLY", "K"}
    assert (found["K"].targets[0].code, found["K"].targets[0].equivalence, found["K"].author) == (
        "3023103",
        "wider",
        "rui",
    )


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("source_code,target_code\nA,\n", "usagi.csv:2: field 'target_code': empty value"),
        (
            "source_code,target_code,equivalence\nA,T,same\n",
            "usagi.csv:2: field 'equivalence': 'same' is not",
        ),
        ("code,target\nA,T\n", "usagi.csv:1: missing column(s) source_code, target_code"),
        ("source_code,target_code\nA,T,extra\n", "usagi.csv:2: more fields than the 2 columns"),
        ("source_code,target_code\n", "no validated mapping found"),
    ],
)
def test_a_bad_row_is_named_by_file_line_and_field(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "usagi.csv"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(SourceFileError) as raised:
        read_decisions(path, format="csv")
    assert message in str(raised.value)
