"""Building a ConceptMap from decisions: the same decisions give the same resource."""

from __future__ import annotations

from datetime import UTC, datetime

from terminology.models import CodeSystem
from terminology.publication.conceptmap import build_concept_map
from terminology.review.workflow import MappingRow, Status, Target


def _system(version: str) -> CodeSystem:
    return CodeSystem(id=1, url="urn:s", version=version, name="S", title=None, publisher=None, status="active",
                      languages=("fr",), source_format="csv", source_name="s.csv", checksum="x",
                      imported_at=datetime(2026, 1, 1, tzinfo=UTC), concept_count=2)  # fmt: skip


def test_the_date_is_the_latest_decision_so_republishing_is_idempotent() -> None:
    rows = [
        MappingRow(project_id=1, source_code="a", status=Status.ACCEPTED, targets=(Target(code="x"),),
                   updated_at=datetime(2026, 3, 1, 10, 0, 0)),  # naive, as SQLite hands it back
        MappingRow(project_id=1, source_code="b", status=Status.ACCEPTED, no_map=True,
                   updated_at=datetime(2026, 3, 2, 9, 30, 5, tzinfo=UTC)),
        MappingRow(project_id=1, source_code="c", status=Status.DRAFT, targets=(Target(code="y"),),
                   updated_at=datetime(2026, 4, 1, tzinfo=UTC)),  # not accepted: not published
    ]  # fmt: skip

    def build() -> dict:
        return build_concept_map(rows, _system("1"), _system("2"), url="urn:m", name="m", version="1",
                                 status="active", publisher="p", displays=({}, {}))  # fmt: skip

    first = build()
    assert first["date"] == "2026-03-02T09:30:05+00:00"
    assert build() == first  # whenever it runs
    assert [e["code"] for e in first["group"][0]["element"]] == ["a", "b"]
