"""SSSOM TSV, the exchange format of mapping sets (https://w3id.org/sssom/).

Candidates become rows ranked per subject; the reason goes to ``comment`` and
the score to ``confidence``. Identifiers are CURIEs whose prefixes the header's
``curie_map`` expands to the code systems' canonical URLs.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable, Iterator, Sequence
from datetime import date
from typing import TextIO
from urllib.parse import quote

from terminology import __version__
from terminology.models import Candidate, CodeSystem, MatchMethod
from terminology.review.workflow import MappingRow

PREDICATES = {
    "equivalent": "skos:exactMatch",
    "relatedto": "skos:closeMatch",
    "equal": "skos:exactMatch",
    "wider": "skos:broadMatch",
    "subsumes": "skos:broadMatch",
    "narrower": "skos:narrowMatch",
    "specializes": "skos:narrowMatch",
    "inexact": "skos:closeMatch",
}
JUSTIFICATIONS = {
    MatchMethod.LEXICAL: "semapv:LexicalMatching",
    MatchMethod.CODE_RULE: "semapv:BackgroundKnowledgeBasedMatching",
    MatchMethod.MEMORY: "semapv:BackgroundKnowledgeBasedMatching",
    MatchMethod.ANCESTOR: "semapv:StructuralMatching",
    MatchMethod.PARENT_CONTEXT: "semapv:StructuralMatching",
}
"""How each matching method justifies a mapping, in the SEMAPV vocabulary SSSOM uses."""
COLUMNS = (
    "subject_id", "subject_label", "predicate_id", "object_id", "object_label",
    "mapping_justification", "confidence", "comment",
)  # fmt: skip
UNSPECIFIED_LICENSE = "https://w3id.org/sssom/license/unspecified"


def curie_prefix(system: CodeSystem, taken: set[str]) -> str:
    """A CURIE prefix from the system's name (letters and digits), unique in the set.

    Two versions of one URL share a prefix: they share the namespace.
    """
    base = re.sub(r"[^A-Za-z0-9]", "", system.name or "") or "CS"
    if base[0].isdigit():
        base = "CS" + base
    prefix, number = base, 2
    while prefix in taken:
        prefix, number = f"{base}{number}", number + 1
    return prefix


def namespace(system: CodeSystem) -> str:
    return system.url if system.url.endswith(("/", "#", ":")) else system.url + "/"


def local_id(code: str) -> str:
    """A code as a CURIE local part: characters outside the safe set are percent-encoded."""
    return quote(code, safe="._-~")


STANDARD_PREFIXES = {
    "skos": "http://www.w3.org/2004/02/skos/core#",
    "semapv": "https://w3id.org/semapv/vocab/",
    "sssom": "https://w3id.org/sssom/",
}


def write_mapping_set(
    out: TextIO,
    *,
    curie_map: dict[str, str],
    metadata: Sequence[tuple[str, str]],
    columns: Sequence[str],
    rows: Iterable[Sequence[object]],
) -> int:
    r"""The one SSSOM TSV writer: the YAML header (``curie_map`` with the SKOS, SEMAPV and
    SSSOM prefixes, then the mapping-set ``metadata`` in order, license and tool included),
    then the table. Candidates, curators' decisions and ConceptMaps are all written
    through it; returns the number of rows.

    >>> import io
    >>> out = io.StringIO()
    >>> write_mapping_set(out, curie_map={"A": "urn:a/"}, metadata=[("mapping_set_id", "urn:set")],
    ...                   columns=["subject_id", "object_id"], rows=[["A:1", "A:2"]])
    1
    >>> print(out.getvalue().replace("\t", " | "), end="")  # doctest: +ELLIPSIS
    # curie_map:
    #   A: urn:a/
    #   skos: http://www.w3.org/2004/02/skos/core#
    ...
    # mapping_set_id: urn:set
    # license: https://w3id.org/sssom/license/unspecified
    # mapping_tool: concordance ...
    subject_id | object_id
    A:1 | A:2
    """
    prefixes = {**curie_map, **STANDARD_PREFIXES}
    given = dict(metadata)
    header = [
        "curie_map:",
        *[f"  {prefix}: {expansion}" for prefix, expansion in prefixes.items()],
        *[f"{key}: {value}" for key, value in metadata],
        *([] if "license" in given else [f"license: {UNSPECIFIED_LICENSE}"]),
        *([] if "mapping_tool" in given else [f"mapping_tool: concordance {__version__}"]),
    ]
    out.write("".join(f"# {line}\n" for line in header))
    writer = csv.writer(out, delimiter="\t", lineterminator="\n")
    writer.writerow(columns)
    count = 0
    for row in rows:
        writer.writerow(row)
        count += 1
    return count


def _system_prefixes(source: CodeSystem, target: CodeSystem) -> tuple[str, str, dict[str, str]]:
    """CURIE prefixes of a mapping set's two systems (one when they share a url)."""
    subject_prefix = curie_prefix(source, set())
    object_prefix = subject_prefix if target.url == source.url else curie_prefix(target, {subject_prefix})
    return (
        subject_prefix,
        object_prefix,
        {subject_prefix: namespace(source), object_prefix: namespace(target)},
    )


def _sources(source: CodeSystem, target: CodeSystem) -> list[tuple[str, str]]:
    return [
        ("subject_source", source.url),
        ("subject_source_version", source.version),
        ("object_source", target.url),
        ("object_source_version", target.version),
    ]


def write_sssom(
    candidates: Iterable[Candidate],
    source: CodeSystem,
    target: CodeSystem,
    out: TextIO,
    *,
    mapping_set_id: str,
) -> int:
    """Candidates as a mapping set, ranked per subject (score as ``confidence``, rank and
    reason as ``comment``); returns the number of rows."""
    subject_prefix, object_prefix, curie_map = _system_prefixes(source, target)
    metadata = [
        ("mapping_set_id", mapping_set_id),
        ("license", UNSPECIFIED_LICENSE),
        ("mapping_tool", f"concordance {__version__}"),
        ("mapping_date", date.today().isoformat()),
        *_sources(source, target),
    ]
    rows = (
        [
            f"{subject_prefix}:{local_id(candidate.source_code)}",
            candidate.source_label or "",
            PREDICATES.get(candidate.equivalence, "skos:relatedMatch"),
            f"{object_prefix}:{local_id(candidate.target_code)}",
            candidate.target_label or "",
            JUSTIFICATIONS.get(candidate.method, "semapv:UnspecifiedMatching"),
            f"{candidate.score:.4f}",
            f"rank {candidate.rank}; {candidate.reason}",
        ]
        for candidate in candidates
    )
    return write_mapping_set(out, curie_map=curie_map, metadata=metadata, columns=COLUMNS, rows=rows)


DECISION_COLUMNS = (
    "subject_id", "subject_label", "predicate_id", "predicate_modifier", "object_id", "object_label",
    "mapping_justification", "author_id", "reviewer_id", "mapping_date", "comment",
)  # fmt: skip


def write_decisions_sssom(
    rows: Iterable[MappingRow],
    target_displays: dict[str, str],
    source: CodeSystem,
    target: CodeSystem,
    out: TextIO,
    *,
    mapping_set_id: str,
) -> int:
    """Curators' decisions as a mapping set: accepted rows as mappings, rejected ones as
    negative mappings (``predicate_modifier: Not``), an accepted "no map" as
    ``sssom:NoTermFound``; people as ``concordance.user:`` CURIEs. Rows not yet decided
    (unmapped, draft, in review, conflict) are left out."""
    subject_prefix, object_prefix, curie_map = _system_prefixes(source, target)
    curie_map["concordance.user"] = "urn:concordance:user/"
    metadata = [("mapping_set_id", mapping_set_id), *_sources(source, target)]

    def person(name: str | None) -> str:
        return "|".join(f"concordance.user:{local_id(part)}" for part in (name or "").split("+") if part)

    def lines() -> Iterator[list[str]]:
        for row in rows:
            if row.status.value not in ("accepted", "rejected"):
                continue
            modifier = "Not" if row.status.value == "rejected" else ""
            when = row.updated_at.date().isoformat() if row.updated_at else ""
            pairs = [
                (f"{object_prefix}:{local_id(t.code)}", target_displays.get(t.code, ""), t.equivalence)
                for t in row.targets
            ]
            if row.no_map or not pairs:
                pairs = [("sssom:NoTermFound", "", "equivalent")]
            for object_id, object_label, equivalence in pairs:
                yield [
                    f"{subject_prefix}:{local_id(row.source_code)}",
                    row.source_label or "",
                    PREDICATES.get(equivalence, "skos:relatedMatch"),
                    modifier,
                    object_id,
                    object_label,
                    "semapv:ManualMappingCuration",
                    person(row.author),
                    person(row.reviewer),
                    when,
                    row.comment or "",
                ]

    return write_mapping_set(
        out, curie_map=curie_map, metadata=metadata, columns=DECISION_COLUMNS, rows=lines()
    )
