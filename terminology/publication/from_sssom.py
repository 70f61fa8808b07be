"""An SSSOM mapping set (TSV with its YAML header) as a FHIR R4 ConceptMap version.

Lets a team serve mapping tables curated elsewhere (OBO / biopragmatics tools, another
Concordance) through ``$translate``. Identifiers are CURIEs expanded by the header's
``curie_map``; the code system is the expansion without the separator Concordance adds
when it exports (``urn:samu/`` → ``urn:samu``), or ``subject_source`` / ``object_source``
when the header names them. ``sssom:NoTermFound`` becomes an ``unmatched`` element and
``predicate_modifier: Not`` a ``disjoint`` target, the inverse of the export.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from urllib.parse import unquote

from terminology.file_limits import LONGEST_CODE, control_character
from terminology.mapping_sets import (
    EQUIVALENCES,
    NO_TERM_FOUND,
    STATUSES,
    InvalidMappingSetError,
    MappingSet,
    check_columns,
    read_mapping_set,
)
from terminology.publication.conceptmap import implicit_value_set


class _Curies:
    """CURIE → (code system, code), through a ``curies`` converter built from the header's
    ``curie_map`` (prefix synonyms and case handled as the SSSOM tools do).

    The table itself is read line by line here rather than by ``sssom.parsers``: that parser
    reports no line numbers, and a refused file must say FILE:LINE:FIELD.
    """

    def __init__(self, metadata: dict[str, Any], where: str) -> None:
        from curies import Converter

        curie_map = metadata.get("curie_map") or {}
        if not isinstance(curie_map, dict):
            raise InvalidMappingSetError(f"{where}: header field curie_map must map prefixes to URLs")
        try:
            self.converter = Converter.from_prefix_map(
                {str(prefix): str(url) for prefix, url in curie_map.items()}
            )
        except ValueError as error:
            raise InvalidMappingSetError(f"{where}: header field curie_map: {error}") from error
        self.sources = [
            str(metadata[key]) for key in ("subject_source", "object_source") if metadata.get(key)
        ]
        self.where = where

    def system_and_code(self, curie: str, line: int, field: str) -> tuple[str, str]:
        prefix, colon, local = curie.partition(":")
        if not colon or not local:
            raise InvalidMappingSetError(
                f"{self.where}: line {line}, field {field}: {curie!r} is not a CURIE"
            )
        standard = self.converter.standardize_prefix(prefix)
        expansion = self.converter.prefix_map.get(standard) if standard else None
        if expansion is None:
            raise InvalidMappingSetError(
                f"{self.where}: line {line}, field {field}: prefix {prefix!r} is not in the curie_map"
            )
        code = unquote(local)
        if len(code) > LONGEST_CODE or control_character(code):
            raise InvalidMappingSetError(
                f"{self.where}: line {line}, field {field}: the code must be printable and at most"
                f" {LONGEST_CODE} characters"
            )
        for source in self.sources:
            if expansion in (source, source + "/", source + "#"):
                return source, code
        return expansion.removesuffix("/"), code


def _target(row: dict[str, str], curies: _Curies, line: int) -> tuple[str | None, dict[str, Any]]:
    """The row's target system and the ConceptMap target it becomes."""
    if row["object_id"] in NO_TERM_FOUND:
        return None, {"equivalence": "unmatched"}
    predicate = row["predicate_id"]
    equivalence = EQUIVALENCES.get(predicate)
    if equivalence is None:
        known = ", ".join(sorted(EQUIVALENCES))
        raise InvalidMappingSetError(
            f"{curies.where}: line {line}, field predicate_id: {predicate!r} is not one of {known}"
        )
    modifier = row.get("predicate_modifier", "")
    if modifier not in ("", "Not"):
        raise InvalidMappingSetError(
            f"{curies.where}: line {line}, field predicate_modifier: {modifier!r} is not Not"
        )
    system, code = curies.system_and_code(row["object_id"], line, "object_id")
    target: dict[str, Any] = {"code": code}
    if row.get("object_label"):
        target["display"] = row["object_label"]
    target["equivalence"] = "disjoint" if modifier == "Not" else equivalence
    if row.get("comment"):
        target["comment"] = row["comment"]
    return system, target


def _groups(found: MappingSet, curies: _Curies) -> Iterator[dict[str, Any]]:
    groups: dict[tuple[str, str | None], dict[str, dict[str, Any]]] = {}
    for line, row in found.rows:
        source, code = curies.system_and_code(row["subject_id"], line, "subject_id")
        target_system, target = _target(row, curies, line)
        elements = groups.setdefault((source, target_system), {})
        element = elements.setdefault(code, {"code": code, "target": []})
        if row.get("subject_label"):
            element.setdefault("display", row["subject_label"])
        element["target"].append(target)
    # An unmatched row has no target system: it joins a group of its source when there is one.
    for (source, target_system), elements in list(groups.items()):
        if target_system is None:
            home = next((key for key in groups if key[0] == source and key[1] is not None), None)
            if home is not None:
                for code, element in elements.items():
                    if code in groups[home]:
                        groups[home][code]["target"].extend(element["target"])
                    else:
                        groups[home][code] = element
                del groups[(source, target_system)]
    for (source, target_system), elements in groups.items():
        group: dict[str, Any] = {"source": source}
        if target_system:
            group["target"] = target_system
        group["element"] = list(elements.values())
        yield group


def conceptmap_from_sssom(
    text: str, *, where: str = "mapping set", version: str | None = None, status: str = "draft"
) -> dict[str, Any]:
    """An R4 ConceptMap from SSSOM TSV text (``version`` when the set has no ``mapping_set_version``).

    >>> tsv = ("# curie_map:\\n#   A: urn:a/\\n#   B: urn:b/\\n# mapping_set_id: urn:map\\n"
    ...        "# mapping_set_version: '1'\\n"
    ...        "subject_id\\tpredicate_id\\tobject_id\\tmapping_justification\\n"
    ...        "A:x\\tskos:exactMatch\\tB:y\\tsemapv:ManualMappingCuration\\n")
    >>> cm = conceptmap_from_sssom(tsv)
    >>> cm["url"], cm["version"], cm["group"][0]["source"], cm["group"][0]["element"][0]["target"]
    ('urn:map', '1', 'urn:a', [{'code': 'y', 'equivalence': 'equivalent'}])
    """
    found = read_mapping_set(text, where=where)
    check_columns(found, where)
    if not found.rows:
        raise InvalidMappingSetError(f"{where}: no mappings")
    metadata = found.metadata
    url = metadata.get("mapping_set_id")
    if not url:
        raise InvalidMappingSetError(
            f"{where}: header: mapping_set_id is required (it becomes ConceptMap.url)"
        )
    chosen_version = str(metadata.get("mapping_set_version") or version or "")
    if not chosen_version:
        raise InvalidMappingSetError(
            f"{where}: header: mapping_set_version is missing; give the version to publish it as"
        )
    if status not in STATUSES:
        raise InvalidMappingSetError(
            f"{where}: status {status!r} is not one of {', '.join(sorted(STATUSES))}"
        )
    curies = _Curies(metadata, where)
    resource: dict[str, Any] = {
        "resourceType": "ConceptMap",
        "url": str(url),
        "version": chosen_version,
        "name": _name(str(metadata.get("mapping_set_title") or url)),
        "status": status,
    }
    if metadata.get("mapping_set_title"):
        resource["title"] = str(metadata["mapping_set_title"])
    if metadata.get("mapping_set_description"):
        resource["description"] = str(metadata["mapping_set_description"])
    published = metadata.get("publication_date") or metadata.get("mapping_date")
    if published:
        resource["date"] = str(published)
    if metadata.get("license"):
        resource["copyright"] = f"Licence: {metadata['license']}"
    groups = list(_groups(found, curies))
    sources = {group["source"] for group in groups}
    targets = {group["target"] for group in groups if "target" in group}
    if len(sources) == 1:  # the scope is a value set: the system's implicit one
        resource["sourceCanonical"] = implicit_value_set(next(iter(sources)))
    if len(targets) == 1:
        resource["targetCanonical"] = implicit_value_set(next(iter(targets)))
    resource["group"] = groups
    return resource


def _name(text: str) -> str:
    """A computer-friendly name (FHIR: starts with a capital, letters, digits and _)."""
    words = [part for part in "".join(c if c.isalnum() else " " for c in text).split() if part]
    name = "".join(word[:1].upper() + word[1:] for word in words) or "MappingSet"
    return name if name[0].isalpha() else "M" + name
