"""Validated mappings curators already hold elsewhere, read as decisions to import.

Terminologists keep validated pairs in spreadsheets, SSSOM files and Usagi exports.
Each becomes a list of :class:`ImportedDecision` (source code, targets with their
equivalence, author, and the ``FILE:LINE`` it came from); a file with any bad row is
refused whole, naming the row, so that nothing is half-imported.

Three formats, recognised by :func:`read_decisions` from the file itself:

* ``csv`` — columns ``source_code``, ``target_code``, optional ``equivalence``
  (default ``equivalent``) and ``author``; several rows for one source give it
  several targets;
* ``sssom`` — an SSSOM TSV mapping set (``subject_id``, ``predicate_id``, ``object_id``,
  optional ``author_id``); identifiers are CURIEs whose local part is the code;
* ``usagi`` — OHDSI Usagi's export CSV (``sourceCode``, ``conceptId``,
  ``mappingStatus``, ``equivalence``, ``statusSetBy``): only ``APPROVED`` rows count,
  and ``conceptId`` is the target code (so the target system must be coded that way).
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, get_args
from urllib.parse import unquote

from terminology.errors import SourceFileError
from terminology.publication.from_sssom import EQUIVALENCES, read_mapping_set
from terminology.review.workflow import Equivalence, Target

DecisionFormat = Literal["csv", "sssom", "usagi"]
R4_EQUIVALENCES = frozenset(get_args(Equivalence))
USAGI_EQUIVALENCES = {
    "EQUAL": "equivalent",
    "EQUIVALENT": "equivalent",
    "WIDER": "wider",
    "NARROWER": "narrower",
    "INEXACT": "inexact",
    "UNMATCHED": "unmatched",
    "UNREVIEWED": "relatedto",
}
"""Usagi's equivalence words, as FHIR R4 codes."""
MAX_ROWS = 1_000_000


@dataclass(frozen=True)
class ImportedDecision:
    """One source concept's validated targets, as a file states them."""

    source_code: str
    targets: tuple[Target, ...]
    author: str
    where: str
    """``FILE:LINE`` of the (first) row, for the audit trail and for errors."""


def _equivalence(value: str, path: Path, line: int, field: str) -> str:
    code = value.strip().lower() or "equivalent"
    if code not in R4_EQUIVALENCES:
        raise SourceFileError(
            path,
            f"{value!r} is not a FHIR R4 equivalence ({', '.join(sorted(R4_EQUIVALENCES))})",
            line=line,
            field=field,
        )
    return code


def _text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as error:
        raise SourceFileError(path, f"not UTF-8 text ({error.reason} at byte {error.start})") from error
    except OSError as error:
        raise SourceFileError(path, f"cannot read: {error.strerror or error}") from error


def sniff_format(path: Path, text: str) -> DecisionFormat:
    """SSSOM by its ``#`` header or its columns, Usagi by its ``sourceCode`` and
    ``mappingStatus`` columns, otherwise plain CSV.

    >>> sniff_format(Path("x.csv"), "sourceCode,conceptId,mappingStatus\\n")
    'usagi'
    >>> sniff_format(Path("x.tsv"), "# curie_map:\\nsubject_id\\tobject_id\\n")
    'sssom'
    """
    first = next((line for line in text.splitlines() if not line.startswith("#")), "")
    if text.startswith("#") or "subject_id\t" in first:
        return "sssom"
    columns = {name.strip() for name in first.split(",")}
    if {"sourceCode", "mappingStatus"} <= columns:
        return "usagi"
    return "csv"


def _merge(found: list[ImportedDecision]) -> list[ImportedDecision]:
    """Rows of one source become one decision with every target (first row's author)."""
    merged: dict[str, ImportedDecision] = {}
    for decision in found:
        earlier = merged.get(decision.source_code)
        if earlier is None:
            merged[decision.source_code] = decision
            continue
        codes = {target.code for target in earlier.targets}
        extra = tuple(target for target in decision.targets if target.code not in codes)
        merged[decision.source_code] = ImportedDecision(
            earlier.source_code, earlier.targets + extra, earlier.author, earlier.where
        )
    return list(merged.values())


def _rows(path: Path, text: str, required: tuple[str, ...]) -> list[tuple[int, dict[str, str]]]:
    reader = csv.DictReader(io.StringIO(text))
    columns = [name.strip() for name in reader.fieldnames or []]
    missing = [name for name in required if name not in columns]
    if missing:
        raise SourceFileError(
            path, f"missing column(s) {', '.join(missing)}; found {', '.join(columns)}", line=1
        )
    rows = []
    for number, row in enumerate(reader, start=2):
        if None in row:
            raise SourceFileError(path, f"more fields than the {len(columns)} columns", line=number)
        if number > MAX_ROWS:
            raise SourceFileError(path, f"more than {MAX_ROWS:,} rows", line=number)
        rows.append((number, {(key or "").strip(): (value or "").strip() for key, value in row.items()}))
    return rows


def _required(path: Path, row: dict[str, str], line: int, *names: str) -> None:
    for name in names:
        if not row.get(name):
            raise SourceFileError(path, "empty value", line=line, field=name)


def read_csv_decisions(path: Path, text: str) -> list[ImportedDecision]:
    found = []
    for line, row in _rows(path, text, ("source_code", "target_code")):
        _required(path, row, line, "source_code", "target_code")
        equivalence = _equivalence(row.get("equivalence", ""), path, line, "equivalence")
        target = Target(code=row["target_code"], equivalence=equivalence)
        author = row.get("author") or f"import:{path.name}"
        found.append(ImportedDecision(row["source_code"], (target,), author, f"{path.name}:{line}"))
    return _merge(found)


def read_usagi_decisions(path: Path, text: str) -> list[ImportedDecision]:
    found = []
    for line, row in _rows(path, text, ("sourceCode", "conceptId", "mappingStatus")):
        if row["mappingStatus"].upper() != "APPROVED":
            continue
        _required(path, row, line, "sourceCode", "conceptId")
        if row["conceptId"] == "0":  # Usagi's "no concept": an explicit no-map is not a target
            continue
        word = (row.get("equivalence") or "EQUAL").upper()
        if word not in USAGI_EQUIVALENCES:
            raise SourceFileError(
                path,
                f"{word!r} is not a Usagi equivalence ({', '.join(USAGI_EQUIVALENCES)})",
                line=line,
                field="equivalence",
            )
        target = Target(code=row["conceptId"], equivalence=USAGI_EQUIVALENCES[word])
        author = row.get("statusSetBy") or f"import:{path.name}"
        found.append(ImportedDecision(row["sourceCode"], (target,), author, f"{path.name}:{line}"))
    return _merge(found)


def _local(curie: str, path: Path, line: int, field: str) -> str:
    _prefix, colon, local = curie.partition(":")
    if not colon or not local:
        raise SourceFileError(path, f"{curie!r} is not a CURIE", line=line, field=field)
    return unquote(local)


def read_sssom_decisions(path: Path, text: str) -> list[ImportedDecision]:
    mapping_set = read_mapping_set(text, where=str(path))
    missing = [
        name for name in ("subject_id", "predicate_id", "object_id") if name not in mapping_set.columns
    ]
    if missing:
        raise SourceFileError(path, f"missing column(s) {', '.join(missing)}", line=mapping_set.columns_line)
    found = []
    for line, row in mapping_set.rows:
        _required(path, row, line, "subject_id", "predicate_id", "object_id")
        if row["object_id"] == "sssom:NoTermFound":
            continue
        equivalence = EQUIVALENCES.get(row["predicate_id"])
        if equivalence is None:
            raise SourceFileError(
                path, f"{row['predicate_id']!r} is not a known predicate", line=line, field="predicate_id"
            )
        if row.get("predicate_modifier") == "Not":
            equivalence = "disjoint"
        target = Target(code=_local(row["object_id"], path, line, "object_id"), equivalence=equivalence)
        author = (row.get("author_id") or "").split("|")[0] or f"import:{path.name}"
        found.append(
            ImportedDecision(
                _local(row["subject_id"], path, line, "subject_id"), (target,), author, f"{path.name}:{line}"
            )
        )
    return _merge(found)


READERS = {"csv": read_csv_decisions, "sssom": read_sssom_decisions, "usagi": read_usagi_decisions}


def read_decisions(path: Path, *, format: DecisionFormat | None = None) -> list[ImportedDecision]:
    """The decisions a file states, in any of the three formats (sniffed when not given)."""
    text = _text(path)
    chosen = format or sniff_format(path, text)
    decisions = READERS[chosen](path, text)
    if not decisions:
        raise SourceFileError(path, f"no validated mapping found (read as {chosen})")
    return decisions
