"""File readers with bounds (issue 26): every YAML header is read without aliases (the
"nine levels of ten" bomb is refused in well under a second), row caps hold at their exact
limit, and an oversized field, a control character or an over-long code is refused at
``FILE:LINE`` with the field named — never an "unexpected" error."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from terminology.errors import SourceFileError
from terminology.file_limits import LONGEST_CODE, LONGEST_FIELD, MAX_ROWS
from terminology.importers import importer_class
from terminology.mapping_sets import InvalidMappingSetError, read_mapping_set
from terminology.matching.rule_files import RuleFileError
from terminology.matching.rules import load_rules
from terminology.models import CodeSystemMetadata
from terminology.publication.from_sssom import conceptmap_from_sssom
from terminology.review.decision_files import read_decisions
from terminology.services.importing import import_code_system
from terminology.storage.store import SqlStore
from tests.conftest import table_counts

LOCAL = CodeSystemMetadata(url="urn:local", version="1", language="fr")
HEADER = "# curie_map:\n#   A: urn:a/\n#   B: urn:b/\n# mapping_set_id: urn:map\n# mapping_set_version: '1'\n"
COLUMNS = "subject_id\tpredicate_id\tobject_id\tmapping_justification\n"
ROW = "A:x\tskos:exactMatch\tB:y\tsemapv:ManualMappingCuration\n"


def alias_bomb(comment: str = "") -> str:
    """Nine levels of ten aliases: a billion nodes once expanded."""
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    for level in range(1, 10):
        lines.append(f"a{level}: &a{level} [" + ", ".join([f"*a{level - 1}"] * 10) + "]")
    return "".join(f"{comment}{line}\n" for line in lines)


def test_an_sssom_alias_bomb_is_refused_in_under_a_second(tmp_path: Path) -> None:
    text = alias_bomb("# ") + COLUMNS + ROW
    started = time.perf_counter()
    with pytest.raises(InvalidMappingSetError, match=r"YAML aliases \(\*a0\) are not accepted"):
        read_mapping_set(text, where="bomb.sssom.tsv")
    path = tmp_path / "bomb.sssom.tsv"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(InvalidMappingSetError, match="aliases"):
        read_decisions(path)
    assert time.perf_counter() - started < 1.0


def test_a_rule_file_alias_bomb_is_refused_at_its_line(tmp_path: Path) -> None:
    path = tmp_path / "bomb.yaml"
    path.write_text("kind: code-rules\n" + alias_bomb(), encoding="utf-8")
    started = time.perf_counter()
    with pytest.raises(RuleFileError) as refused:
        load_rules([path])
    assert "aliases" in str(refused.value) and "bomb.yaml:3" in str(refused.value), str(refused.value)
    assert time.perf_counter() - started < 1.0


def test_the_sssom_row_cap_holds_at_its_exact_limit() -> None:
    body = ROW * MAX_ROWS
    assert len(read_mapping_set(HEADER + COLUMNS + body).rows) == MAX_ROWS
    with pytest.raises(InvalidMappingSetError, match=f"line {MAX_ROWS + 7}: more than 1,000,000 mappings"):
        read_mapping_set(HEADER + COLUMNS + body + ROW)


def test_the_decision_file_row_cap_holds_at_its_exact_limit(tmp_path: Path) -> None:
    path = tmp_path / "big.csv"
    rows = "".join(f"S{i},T{i}\n" for i in range(MAX_ROWS + 1))
    path.write_text("source_code,target_code\n" + rows, encoding="utf-8")
    with pytest.raises(SourceFileError) as refused:
        read_decisions(path)
    assert str(refused.value) == f"{path}:{MAX_ROWS + 2}: more than 1,000,000 rows"
    path.write_text("source_code,target_code\n" + rows[: rows.index(f"S{MAX_ROWS},")], encoding="utf-8")
    assert len(read_decisions(path)) == MAX_ROWS


@pytest.mark.parametrize("size", [LONGEST_FIELD + 1, 5 * LONGEST_FIELD])
def test_an_oversized_field_is_named(tmp_path: Path, size: int) -> None:
    path = tmp_path / "long.csv"
    path.write_text(f"source_code,target_code,author\nA,B,ana\nC,D,{'x' * size}\n", encoding="utf-8")
    with pytest.raises(SourceFileError) as refused:
        read_decisions(path)
    assert f"{path}:3" in str(refused.value) and "131,072" in str(refused.value)
    sssom = HEADER + "subject_id\tpredicate_id\tobject_id\tmapping_justification\tcomment\n"
    sssom += ROW.rstrip("\n") + "\t" + "x" * size + "\n"
    with pytest.raises(InvalidMappingSetError, match=r"line 7.*131,072"):
        read_mapping_set(sssom)


def test_a_field_at_the_limit_is_read(tmp_path: Path) -> None:
    path = tmp_path / "long.csv"
    path.write_text(
        f"source_code,target_code,author\nA,B,ana\nC,D,ana\n,,{'x' * LONGEST_FIELD}\n", encoding="utf-8"
    )
    with pytest.raises(SourceFileError) as refused:  # the long row is read, then found without codes
        read_decisions(path)
    assert "field 'source_code': empty value" in str(refused.value) and f"{path}:4" in str(refused.value)


@pytest.mark.parametrize(
    ("subject", "message"),
    [
        ("A:x\x1b[31m", "line 7, field subject_id: holds the control character U+001B"),
        ("A:x%00", "line 7, field subject_id: the code must be printable"),
        (
            "A:" + "x" * (LONGEST_CODE + 1),
            f"line 7, field subject_id: the code must be printable and at most {LONGEST_CODE}",
        ),
    ],
)
def test_sssom_codes_are_printable_and_bounded(subject: str, message: str) -> None:
    text = HEADER + COLUMNS + ROW.replace("A:x", subject)
    with pytest.raises(InvalidMappingSetError) as refused:
        conceptmap_from_sssom(text, where="m.sssom.tsv")
    assert message in str(refused.value), str(refused.value)


def test_a_code_at_the_limit_is_read() -> None:
    text = HEADER + COLUMNS + ROW.replace("A:x", "A:" + "x" * LONGEST_CODE)
    assert conceptmap_from_sssom(text)["group"][0]["element"][0]["code"] == "x" * LONGEST_CODE


@pytest.mark.parametrize(
    ("row", "message"),
    [
        ("A\x1b[31m2,Bad", "field 'code': 'A\\\\x1b[31m2'… holds a control character"),
        (
            "B" * (LONGEST_CODE + 1) + ",Long",
            f"field 'code': '{'B' * 40}'… longer than {LONGEST_CODE} characters",
        ),
        ("C1,Bad\x00name", "field 'display': 'Bad\\\\x00name'… holds a control character"),
        ("D1," + "x" * (LONGEST_FIELD + 1), "field 'display'"),
    ],
)
def test_a_code_system_import_refuses_what_it_cannot_store_at_its_line(
    store: SqlStore, tmp_path: Path, row: str, message: str
) -> None:
    path = tmp_path / "local.csv"
    path.write_text(f"code,display\nA1,Fine\n{row}\n", encoding="utf-8")
    before = table_counts(store)
    with pytest.raises(SourceFileError) as refused:
        import_code_system(store, importer_class("csv").with_options({}), path, overrides=LOCAL)
    assert f"{path}:3: {message}" in str(refused.value), str(refused.value)
    assert table_counts(store) == before  # nothing stored


def test_a_code_at_the_limit_and_a_tab_in_a_display_are_imported(store: SqlStore, tmp_path: Path) -> None:
    path = tmp_path / "local.csv"
    path.write_text(f'code,display\n{"C" * LONGEST_CODE},"Long\tcode"\n', encoding="utf-8")
    report = import_code_system(store, importer_class("csv").with_options({}), path, overrides=LOCAL)
    assert report.code_system.concept_count == 1


def test_a_designation_with_a_control_character_is_refused_at_its_line(
    store: SqlStore, tmp_path: Path
) -> None:
    path = tmp_path / "local.csv"
    path.write_text("code,display,label_en\nA1,Fine,Fine\nA2,Bad,Bad\x1bname\n", encoding="utf-8")
    importer = importer_class("csv").with_options({"language_columns": "en=label_en"})
    with pytest.raises(SourceFileError) as refused:
        import_code_system(store, importer, path, overrides=LOCAL)
    assert f"{path}:3: field 'designation': 'Bad\\\\x1bname'… holds a control character" in str(refused.value)
