"""``_summary`` / ``_elements``: the summary elements are R4's own (checked against the
FHIR models of ``fhir.resources``), and a subset says it is one."""

from __future__ import annotations

import importlib

import pytest

from terminology.fhir.subsetting import (
    ALWAYS,
    SUMMARY,
    InvalidSubsetError,
    summarized,
    summary_mode,
    with_elements,
)


@pytest.mark.parametrize("kind", sorted(SUMMARY))
def test_summary_elements_are_those_fhir_marks_as_summary(kind: str) -> None:
    model = getattr(importlib.import_module(f"fhir.resources.R4B.{kind.lower()}"), kind)
    marked = {
        field.alias or name
        for name, field in model.model_fields.items()
        if (field.json_schema_extra or {}).get("summary_element_property")  # type: ignore[union-attr]
    }
    assert SUMMARY[kind] | (ALWAYS - {"resourceType"}) == marked


def test_a_summary_keeps_the_summary_elements_and_is_tagged() -> None:
    concept_map = {
        "resourceType": "ConceptMap",
        "id": "7",
        "meta": {"tag": [{"system": "urn:t", "code": "mine"}]},
        "url": "urn:m",
        "status": "active",
        "sourceUri": "urn:s",
        "purpose": "long text",
        "group": [{"element": [{"code": "a"}]}],
    }
    summary = summarized(concept_map, "true")
    assert set(summary) == {"resourceType", "id", "meta", "url", "status", "sourceUri"}
    assert [tag["code"] for tag in summary["meta"]["tag"]] == ["mine", "SUBSETTED"]
    assert summarized(concept_map, "false") is concept_map
    assert set(summarized(concept_map, "text")) == {"resourceType", "id", "meta", "status"}
    assert set(with_elements(concept_map, ["group", "source"])) == {
        "resourceType", "id", "meta", "status", "sourceUri", "group",
    }  # fmt: skip


def test_count_is_for_searches_and_unknown_modes_are_refused() -> None:
    assert summary_mode("count", search=True) == "count"
    with pytest.raises(InvalidSubsetError, match=r"_summary=count is not one of true, false, text, data$"):
        summary_mode("count", search=False)
    with pytest.raises(InvalidSubsetError, match="_summary=short"):
        summary_mode("short", search=True)
