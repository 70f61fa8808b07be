"""SSSOM TSV, the exchange format of mapping sets (https://w3id.org/sssom/).

Candidates become rows ranked per subject; the reason goes to ``comment`` and
the score to ``confidence``. Identifiers are CURIEs whose prefixes the header's
``curie_map`` expands to the code systems' canonical URLs.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import date
from typing import TextIO
from urllib.parse import quote

from terminology import __version__
from terminology.models import Candidate, CodeSystem, MatchMethod
from terminology.review.workflow import MappingRow

PREDICATES = {
    "equivalent": "skos:exactMatch",
    "relatedto": "skos:relatedMatch",
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
    MatchMethod.DECIDED_NEIGHBOUR: "semapv:StructuralMatching",
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


def source_prefixes(*addresses: str) -> dict[str, str]:
    """Prefixes that make ``subject_source`` / ``object_source`` resolvable CURIEs.

    SSSOM types them as entity references, so ``urn:samu`` reads as prefix ``urn``, local
    part ``samu``; declaring ``urn`` as ``urn:`` makes it expand to itself (``sssom
    validate`` refuses the set otherwise: "Missing prefix: urn"). http(s) URLs are already
    URIs and need nothing.

    >>> source_prefixes("urn:samu", "http://hl7.org/fhir/sid/icd-10", "urn:oid:1.2.250")
    {'urn': 'urn:'}
    """
    return {"urn": "urn:"} if any(address.startswith("urn:") for address in addresses) else {}


def write_mapping_set(
    out: TextIO,
    *,
    curie_map: dict[str, str],
    metadata: Sequence[tuple[str, str]],
    columns: Sequence[str],
    rows: Iterable[Sequence[object]],
) -> int:
    r"""The one SSSOM TSV writer, through the ``sssom`` package: a ``curies`` converter for
    the prefixes (the systems', SKOS, SEMAPV and SSSOM, and ``urn`` when a source is a URN),
    the mapping-set ``metadata`` (license and tool included), then the table. Candidates,
    curators' decisions and ConceptMaps are all written through it, so every file passes
    ``sssom validate``; returns the number of rows.

    >>> import io
    >>> out = io.StringIO()
    >>> write_mapping_set(out, curie_map={"A": "urn:a/"}, metadata=[("mapping_set_id", "urn:set")],
    ...                   columns=["subject_id", "object_id"], rows=[["A:1", "A:2"]])
    1
    >>> print(out.getvalue().replace("\t", " | "), end="")  # doctest: +ELLIPSIS
    # curie_map:
    #   A: urn:a/
    ...
    # mapping_set_id: urn:set
    # mapping_tool: concordance ...
    subject_id | object_id
    A:1 | A:2
    """
    import pandas as pd
    from curies import Converter
    from sssom.util import MappingSetDataFrame
    from sssom.writers import write_table

    given = dict(metadata)
    sources = [value for key, value in given.items() if key in ("subject_source", "object_source")]
    converter = Converter.from_prefix_map({**curie_map, **source_prefixes(*sources), **STANDARD_PREFIXES})
    table = pd.DataFrame([[str(cell) for cell in row] for row in rows], columns=list(columns), dtype=str)
    header: dict[str, object] = {
        "license": UNSPECIFIED_LICENSE,
        "mapping_tool": f"concordance {__version__}",
        **{key: value for key, value in given.items() if value != ""},
    }
    write_table(MappingSetDataFrame(df=table, converter=converter, metadata=header), out)
    return len(table)


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
    source_displays: Mapping[str, str | None],
    target_displays: Mapping[str, str | None],
) -> int:
    """Candidates as a mapping set, ranked per subject (score as ``confidence``); returns
    the number of rows.

    ``subject_label`` / ``object_label`` are the concepts' own displays, as SSSOM means
    them; the labels that matched (a synonym, another language) go to ``comment`` with the
    rank and the reason, so a reader sees why without mistaking a synonym for the name.
    """
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
            source_displays.get(candidate.source_code) or candidate.source_label or "",
            PREDICATES.get(candidate.equivalence, "skos:relatedMatch"),
            f"{object_prefix}:{local_id(candidate.target_code)}",
            target_displays.get(candidate.target_code) or candidate.target_label or "",
            JUSTIFICATIONS.get(candidate.method, "semapv:UnspecifiedMatching"),
            f"{candidate.score:.4f}",
            candidate_comment(
                candidate,
                source_displays.get(candidate.source_code),
                target_displays.get(candidate.target_code),
            ),
        ]
        for candidate in candidates
    )
    return write_mapping_set(out, curie_map=curie_map, metadata=metadata, columns=COLUMNS, rows=rows)


def candidate_comment(
    candidate: Candidate, source_display: str | None = None, target_display: str | None = None
) -> str:
    """Rank, the labels that matched when they are not the concepts' displays (a synonym,
    another language) and the reason doesn't already quote them, and the reason.

    >>> from terminology.models import Candidate, MatchMethod
    >>> flu = Candidate(source_code="1", source_label="Grippe", target_code="J11",
    ...     target_label="Influenza", rank=1, score=0.9, equivalence="equivalent",
    ...     method=MatchMethod.CODE_RULE, reason="same code")
    >>> candidate_comment(flu, "Grippe saisonnière", "Influenza")
    'rank 1; matched label "Grippe" ~ "Influenza"; same code'
    >>> candidate_comment(flu, "Grippe", "Influenza")
    'rank 1; same code'
    """
    quoted = f'"{candidate.source_label}"' in candidate.reason
    differs = (candidate.source_label or "") != (source_display or candidate.source_label or "") or (
        candidate.target_label or ""
    ) != (target_display or candidate.target_label or "")
    matched = (
        f'; matched label "{candidate.source_label}" ~ "{candidate.target_label}"'
        if differs and not quoted and candidate.source_label and candidate.target_label
        else ""
    )
    return f"rank {candidate.rank}{matched}; {candidate.reason}"


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
