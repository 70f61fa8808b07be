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
from terminology.file_limits import LONGEST_CODE, LONGEST_FIELD, MAX_ROWS, control_character
from terminology.mapping_sets import EQUIVALENCES, read_mapping_set
from terminology.review.names import InvalidNameError, check_name
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


@dataclass(frozen=True, slots=True)
class ImportedDecision:
    """One source concept's validated targets, as a file states them."""

    source_code: str
    targets: tuple[Target, ...]
    author: str
    where: str
    """``FILE:LINE`` of the (first) row, for the audit trail and for errors."""
    lines: tuple[int, ...] = ()
    """Every line of the file stating this decision (one per target)."""


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


def _merge(path: Path, found: list[ImportedDecision]) -> list[ImportedDecision]:
    """Rows of one source become one decision with every target (a one-to-many map). Rows
    that contradict each other refuse the file, naming both lines: two authors for one
    source (whose decision is it?), or one target with two equivalences. The same row twice
    adds nothing."""
    merged: dict[str, ImportedDecision] = {}
    for decision in found:
        earlier = merged.get(decision.source_code)
        if earlier is None:
            merged[decision.source_code] = decision
            continue
        _check_agrees(path, earlier, decision)
        codes = {target.code for target in earlier.targets}
        extra = tuple(target for target in decision.targets if target.code not in codes)
        merged[decision.source_code] = ImportedDecision(
            earlier.source_code,
            earlier.targets + extra,
            earlier.author,
            earlier.where,
            earlier.lines + decision.lines,
        )
    return list(merged.values())


def _check_agrees(path: Path, earlier: ImportedDecision, later: ImportedDecision) -> None:
    first, line = earlier.where.rpartition(":")[2], later.lines[0] if later.lines else None
    if earlier.author != later.author:
        raise SourceFileError(
            path,
            f"{later.source_code} is decided by {earlier.author!r} at line {first} and by {later.author!r} "
            "here; one source has one decision (several targets share one author)",
            line=line,
            field="author",
        )
    stated = {target.code: target.equivalence for target in earlier.targets}
    for target in later.targets:
        if target.code in stated and stated[target.code] != target.equivalence:
            raise SourceFileError(
                path,
                f"{later.source_code} → {target.code} is {stated[target.code]!r} at line {first} "
                f"and {target.equivalence!r} here",
                line=line,
                field="equivalence",
            )


def _decision(
    path: Path, line: int, source: str, target_code: str, equivalence: str, author: str | None
) -> ImportedDecision:
    """One row's decision, its author and codes checked as every name and code is: printable,
    no invisible characters, bounded."""
    try:
        who = check_name(author, what="author") if author else f"import:{path.name}"
    except InvalidNameError as error:
        raise SourceFileError(path, str(error), line=line, field="author") from error
    for field, code in (("source", source), ("target", target_code)):
        _check_code(path, line, field, code)
    target = Target(code=target_code, equivalence=equivalence)
    return ImportedDecision(source, (target,), who, f"{path.name}:{line}", (line,))


def _check_code(path: Path, line: int, field: str, code: str) -> None:
    if len(code) > LONGEST_CODE:
        raise SourceFileError(
            path,
            f"the {field} code has {len(code):,} characters; at most {LONGEST_CODE}",
            line=line,
            field=field,
        )
    bad = control_character(code)
    if bad is not None:
        raise SourceFileError(
            path, f"the {field} code holds a control character ({bad})", line=line, field=field
        )


def _rows(path: Path, text: str, required: tuple[str, ...]) -> list[tuple[int, dict[str, str]]]:
    reader = csv.DictReader(io.StringIO(text))
    columns = [name.strip() for name in reader.fieldnames or []]
    missing = [name for name in required if name not in columns]
    if missing:
        raise SourceFileError(
            path, f"missing column(s) {', '.join(missing)}; found {', '.join(columns)}", line=1
        )
    rows: list[tuple[int, dict[str, str]]] = []
    try:
        for number, row in enumerate(reader, start=2):
            if None in row:
                raise SourceFileError(path, f"more fields than the {len(columns)} columns", line=number)
            if number - 1 > MAX_ROWS:  # line 1 is the header
                raise SourceFileError(path, f"more than {MAX_ROWS:,} rows", line=number)
            rows.append((number, _bounded(path, number, row)))
    except csv.Error as error:  # a field over the csv module's own limit, a NUL byte
        problem = str(error)
        if "field larger than field limit" in problem:
            problem = f"a field is longer than {LONGEST_FIELD:,} characters"
        raise SourceFileError(path, problem, line=len(rows) + 2) from error
    return rows


def _bounded(path: Path, line: int, row: dict[str | None, str | None]) -> dict[str, str]:
    """A row's fields stripped, each at most :data:`LONGEST_FIELD` characters."""
    found = {}
    for key, value in row.items():
        name, text = (key or "").strip(), (value or "").strip()
        if len(text) > LONGEST_FIELD:
            raise SourceFileError(
                path, f"{len(text):,} characters; at most {LONGEST_FIELD:,}", line=line, field=name
            )
        found[name] = text
    return found


def _required(path: Path, row: dict[str, str], line: int, *names: str) -> None:
    for name in names:
        if not row.get(name):
            raise SourceFileError(path, "empty value", line=line, field=name)


def read_csv_decisions(path: Path, text: str) -> list[ImportedDecision]:
    found = []
    for line, row in _rows(path, text, ("source_code", "target_code")):
        _required(path, row, line, "source_code", "target_code")
        equivalence = _equivalence(row.get("equivalence", ""), path, line, "equivalence")
        found.append(
            _decision(path, line, row["source_code"], row["target_code"], equivalence, row.get("author"))
        )
    return _merge(path, found)


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
        equivalence = USAGI_EQUIVALENCES[word]
        found.append(
            _decision(path, line, row["sourceCode"], row["conceptId"], equivalence, row.get("statusSetBy"))
        )
    return _merge(path, found)


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
        source = _local(row["subject_id"], path, line, "subject_id")
        target = _local(row["object_id"], path, line, "object_id")
        author = (row.get("author_id") or "").split("|")[0]
        found.append(_decision(path, line, source, target, equivalence, author))
    return _merge(path, found)


READERS = {"csv": read_csv_decisions, "sssom": read_sssom_decisions, "usagi": read_usagi_decisions}


def read_decisions(path: Path, *, format: DecisionFormat | None = None) -> list[ImportedDecision]:
    """The decisions a file states, in any of the three formats (sniffed when not given)."""
    return read_decisions_text(path, _text(path), format=format)


def read_decisions_text(
    path: Path, text: str, *, format: DecisionFormat | None = None
) -> list[ImportedDecision]:
    """The decisions ``text`` states, ``path`` naming it in errors and in the audit trail
    (the API's upload has no file on disk)."""
    chosen = format or sniff_format(path, text)
    decisions = READERS[chosen](path, text)
    if not decisions:
        raise SourceFileError(path, f"no validated mapping found (read as {chosen})")
    return decisions
