"""Normalisation on real labels, and every file of mapping_rules/ checked."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from terminology.matching.normalise import (
    DEFAULT_VOCABULARY,
    VocabularyFile,
    default_normaliser,
    load_vocabulary,
)
from terminology.matching.rule_files import RuleFileError, read_rule_file
from terminology.matching.rules import load_rules
from tests.conftest import BUNDLED, ROOT


@pytest.mark.parametrize(
    ("local", "reference"),
    [
        ("Hb glyquée sg", "Hémoglobine glyquée sang"),
        ("Créat. urines 24h", "Créatinine URINES 24 heures"),
        ("Glycémie à jeun (mmol/L)", "glycemie a jeun mmol/l"),
        ("Leucocytes 10*9/L", "leucocyte giga/l"),
        ("ECBU", "Examen cytobactériologique des urines"),
    ],
)
def test_french_lab_shorthand_meets_the_full_label(local: str, reference: str) -> None:
    normaliser = default_normaliser()
    assert normaliser.tokens(local) == normaliser.tokens(reference)


def test_units_micro_and_case_fold_together() -> None:
    normaliser = default_normaliser()
    assert normaliser.tokens("Vitamine B12 µmol/L") == normaliser.tokens("vitamine b12 umol/l")
    assert normaliser.tokens("TSH mUI/L") == ("thyreostimuline", "mu/l")


def test_real_labels_from_the_bundled_data() -> None:
    normaliser = default_normaliser()
    with (BUNDLED / "samu_nomenclature" / "samu_nomenclature_pairs.csv").open(encoding="utf-8") as handle:
        pairs = list(csv.DictReader(handle))
    same = sum(normaliser.tokens(p["source_label"]) == normaliser.tokens(p["target_label"]) for p in pairs)
    folded = sum(p["source_label"].casefold() == p["target_label"].casefold() for p in pairs)
    assert same > folded  # normalisation makes more curated pairs identical than case folding
    assert normaliser.tokens("Diabète sucré de type II") == ("diabete", "sucre", "type", "2")
    assert normaliser.tokens("Hémorragie digestive (haute ou basse) extériorisée") == (
        "hemorragie",
        "digestive",
        "haute",
        "basse",
        "exteriorisee",
    )


def test_negations_are_kept() -> None:
    normaliser = default_normaliser()
    assert normaliser.tokens("Choléra, sans précision") != normaliser.tokens("Choléra, avec précision")
    assert "without" in normaliser.tokens("Cholera without complication")


@pytest.mark.parametrize("path", sorted((ROOT / "mapping_rules").rglob("*.yaml")), ids=lambda p: p.name)
def test_every_rule_file_is_valid(path: Path) -> None:
    if path.parent == DEFAULT_VOCABULARY:
        vocabulary = read_rule_file(path, VocabularyFile)
        assert vocabulary.entries or vocabulary.words
    elif path.parent.name == "rules":
        assert len(load_rules([path])) > 0
    else:
        pytest.fail(f"no loader knows {path}")


@pytest.mark.parametrize(
    ("text", "line", "field", "message"),
    [
        ("kind: units\nentries:\n  mg/dl: mg/dl\n  g/l:\n", 4, "entries.g/l", "valid string"),
        ("kind: stop-words\nwords: [de, on, la]\n", 2, "words", "write the word in quotes"),
        ("kind: synonyms\nentries: {}\n", 1, "kind", "Input should be"),
        ("kind: units\nentries:\n  a: b\ncolour: blue\n", 4, "colour", "Extra inputs"),
        ("kind: units\nentries:\n  a: [b\n", 4, None, "invalid YAML"),
    ],
)
def test_broken_rule_file_names_file_line_and_reason(
    tmp_path: Path, text: str, line: int, field: str | None, message: str
) -> None:
    path = tmp_path / "broken.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(RuleFileError, match=message) as caught:
        load_vocabulary([path])
    assert caught.value.line == line
    assert caught.value.field == field
    assert str(caught.value).startswith(f"{path}:{line}:")
