"""SSSOM mapping-set files (TSV with a YAML header), read and checked: the rows, the header
and where each came from, for whoever consumes them — a ConceptMap version to serve
(:mod:`terminology.publication.from_sssom`) or curators' decisions to import
(:mod:`terminology.review.decision_files`). A file format, so it belongs to neither.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from typing import Any

import yaml

from terminology.errors import ConcordanceError
from terminology.file_limits import LONGEST_FIELD, MAX_ROWS, control_character
from terminology.yaml_text import load_yaml

EQUIVALENCES = {
    "skos:exactMatch": "equivalent",
    "owl:equivalentClass": "equivalent",
    "skos:closeMatch": "relatedto",
    "skos:relatedMatch": "relatedto",
    "oboInOwl:hasDbXref": "relatedto",
    "skos:broadMatch": "wider",
    "rdfs:subClassOf": "wider",
    "skos:narrowMatch": "narrower",
}
"""SSSOM predicate → R4 equivalence, read from the subject's side (``skos:broadMatch``: the
object is broader, so the target is ``wider``)."""
NO_TERM_FOUND = {"sssom:NoTermFound", "https://w3id.org/sssom/NoTermFound"}
REQUIRED_COLUMNS = ("subject_id", "predicate_id", "object_id", "mapping_justification")
STATUSES = {"draft", "active", "retired", "unknown"}


class InvalidMappingSetError(ConcordanceError):
    """An SSSOM file that cannot be read as a mapping set: where, which field, why."""

    code = "invalid-mapping-set"
    http_status = 400
    fhir_issue = "invalid"


@dataclass(frozen=True)
class MappingSet:
    """The header and the rows, with the line each row came from."""

    metadata: dict[str, Any]
    columns: list[str]
    columns_line: int
    rows: list[tuple[int, dict[str, str]]]


def read_mapping_set(text: str, *, where: str = "mapping set") -> MappingSet:
    """Split the ``#`` YAML header from the TSV body.

    >>> tsv = "# mapping_set_id: urn:m\\nsubject_id\\tpredicate_id\\na:1\\tskos:exactMatch\\n"
    >>> found = read_mapping_set(tsv)
    >>> found.metadata["mapping_set_id"], found.rows[0]
    ('urn:m', (3, {'subject_id': 'a:1', 'predicate_id': 'skos:exactMatch'}))
    """
    lines = text.lstrip("\ufeff").splitlines()
    header = [line[1:] for line in lines if line.startswith("#")]
    body_start = len(header)
    if lines[:body_start] != ["#" + line for line in header]:
        raise InvalidMappingSetError(f"{where}: the '#' header must come before the table")
    try:
        metadata = load_yaml("\n".join(header)) or {}
    except yaml.YAMLError as error:
        raise InvalidMappingSetError(f"{where}: the '#' header is not YAML ({error})") from error
    if not isinstance(metadata, dict):
        raise InvalidMappingSetError(f"{where}: the '#' header must be YAML key: value pairs")
    reader = csv.DictReader(io.StringIO("\n".join(lines[body_start:])), delimiter="\t")
    rows: list[tuple[int, dict[str, str]]] = []
    try:
        columns = list(reader.fieldnames or [])
        for number, row in enumerate(reader, start=body_start + 2):
            if len(rows) == MAX_ROWS:
                raise InvalidMappingSetError(f"{where}: line {number}: more than {MAX_ROWS:,} mappings")
            rows.append((number, _checked_row(row, number, len(columns), where)))
    except csv.Error as error:  # a field over the csv module's limit, a NUL byte
        line = body_start + 2 + len(rows)
        raise InvalidMappingSetError(f"{where}: line {line}: {_csv_problem(error)}") from error
    return MappingSet(metadata, columns, body_start + 1, rows)


def _checked_row(row: dict[str | None, Any], number: int, width: int, where: str) -> dict[str, str]:
    """One table row, bounded: fields of at most
    :data:`LONGEST_FIELD` characters and no control character, each refusal at its line and field."""
    if None in row:
        raise InvalidMappingSetError(f"{where}: line {number}: more fields than the {width} columns")
    checked = {}
    for key, value in row.items():
        text = (value or "").strip()
        if len(text) > LONGEST_FIELD:
            raise InvalidMappingSetError(
                f"{where}: line {number}, field {key}: {len(text):,} characters; at most {LONGEST_FIELD:,}"
            )
        bad = control_character(text)
        if bad is not None:
            raise InvalidMappingSetError(
                f"{where}: line {number}, field {key}: holds the control character {bad}"
            )
        checked[str(key)] = text
    return checked


def _csv_problem(error: csv.Error) -> str:
    text = str(error)
    if "field larger than field limit" in text:
        return f"a field is longer than {LONGEST_FIELD:,} characters"
    return text


def check_columns(found: MappingSet, where: str) -> None:
    missing = [name for name in REQUIRED_COLUMNS if name not in found.columns]
    if missing:
        raise InvalidMappingSetError(
            f"{where}: line {found.columns_line} (column names): {', '.join(missing)} missing"
        )
