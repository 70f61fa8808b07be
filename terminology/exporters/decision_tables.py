"""The curation tables a spreadsheet opens: a project's audit trail and its current
decisions as CSV (RFC 4180, every cell made safe from formula injection)."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Mapping, Sequence

from terminology.exporters.cells import safe_row
from terminology.records import Event
from terminology.review.workflow import MappingRow

HISTORY_COLUMNS = (
    "id", "at", "actor", "source_code", "action", "from_status", "to_status", "comment", "before", "after",
)  # fmt: skip


def history_csv(found: Sequence[Event]) -> str:
    """The audit trail as CSV (one line per change, states as JSON), safe to open in a
    spreadsheet."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")  # RFC 4180: a CR or LF in a cell is quoted
    writer.writerow(HISTORY_COLUMNS)
    for event in found:
        writer.writerow(
            safe_row(
                [
                    event.id,
                    event.at.isoformat(),
                    event.actor,
                    event.source_code,
                    event.action,
                    (event.before or {}).get("status", ""),
                    (event.after or {}).get("status", ""),
                    event.comment or "",
                    json.dumps(event.before, ensure_ascii=False, sort_keys=True),
                    json.dumps(event.after, ensure_ascii=False, sort_keys=True),
                ]
            )
        )
    return out.getvalue()


DECISION_COLUMNS = (
    "source_code", "source_label", "status", "target_code", "target_label", "equivalence", "no_map", "author",
    "reviewer", "comment", "version", "updated_at",
)  # fmt: skip


def decisions_csv(rows: Sequence[MappingRow], displays: Mapping[str, str]) -> str:
    """The rows' decisions as CSV, one line per chosen target (one with no target for a
    no-map or an empty row), target labels from ``displays``."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")  # RFC 4180: a CR or LF in a cell is quoted
    writer.writerow(DECISION_COLUMNS)
    for row in rows:
        chosen: list[tuple[str, str]] = [(t.code, t.equivalence) for t in row.targets] or [("", "")]
        for target_code, equivalence in chosen:
            writer.writerow(
                safe_row(
                    [
                        row.source_code,
                        row.source_label or "",
                        row.status.value,
                        target_code,
                        displays.get(target_code, ""),
                        equivalence,
                        row.no_map,
                        row.author or "",
                        row.reviewer or "",
                        row.comment or "",
                        row.version,
                        row.updated_at.isoformat() if row.updated_at else "",
                    ]
                )
            )
    return out.getvalue()
