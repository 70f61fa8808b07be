"""ConceptMap versions: publishing a project's decisions, importing maps held elsewhere
(national tables, HL7 examples), their lifecycle, and what changed between two versions.

The command line, the HTTP API and the Python API call these; storage only keeps the
versions (:mod:`terminology.storage.conceptmaps`), the FHIR rules live in
:mod:`terminology.publication`.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from terminology.backends import Backends
from terminology.errors import ConcordanceError, SourceFileError
from terminology.models import CodeSystem, Frozen
from terminology.publication.conceptmap import (
    InvalidConceptMapError,
    build_concept_map,
    business_version,
    check_status_change,
    publishable,
    slug,
)
from terminology.publication.diff import MapChange, diff_maps
from terminology.publication.from_sssom import conceptmap_from_sssom
from terminology.records import (
    ConceptMapVersionConflictError,
    Project,
    RowQuery,
    StaleConceptMapError,
    StoredMap,
)
from terminology.services.code_systems import changed_codes

CANONICAL_BASE = "urn:concordance:ConceptMap:"


def read_map_file(path: Path, *, status: str | None = None, version: str | None = None) -> dict[str, Any]:
    """A ConceptMap resource from a FHIR JSON file (R4 or R5) or an SSSOM TSV (``.tsv``;
    ``version`` for a set without ``mapping_set_version``); ``status`` overrides the file's."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise SourceFileError(path, f"cannot be read ({error})") from error
    if path.suffix.lower() == ".tsv":
        resource = conceptmap_from_sssom(text, where=str(path), version=version, status=status or "draft")
    else:
        try:
            resource = json.loads(text)
        except (ValueError, RecursionError) as error:
            raise SourceFileError(path, f"not a JSON file ({str(error)[:200]})") from error
        if not isinstance(resource, dict):
            raise SourceFileError(path, "not a ConceptMap (a JSON object is expected)")
    if status:
        resource["status"] = status
    return resource


def import_map_file(
    store: Backends, path: Path, *, status: str | None = None, version: str | None = None
) -> tuple[StoredMap, bool]:
    """Serve the map a file holds; returns it and whether it is new (the same url|version
    with the same content is kept, not duplicated)."""
    return save_concept_map(store, read_map_file(path, status=status, version=version))


def save_concept_map(
    store: Backends, resource: dict[str, Any], *, project_id: int | None = None
) -> tuple[StoredMap, bool]:
    """Store a version (R4 or R5 JSON, kept as R4); returns it and whether it is new. The
    same url|version with other content is refused: a published version never changes."""
    return store.maps.save_version(publishable(resource), project_id=project_id)


def write_concept_map(
    store: Backends, resource: Any, *, map_id: int | None = None, expected_revision: int | None = None
) -> tuple[StoredMap, bool]:
    """A publisher's FHIR write (``POST``: ``map_id`` None; ``PUT ConceptMap/{map_id}``):
    a new url|version is stored; an existing one keeps its content and only its status may
    move forward (draft → active → retired), on the revision the writer read
    (``expected_revision``). Returns the version and whether anything changed."""
    if not isinstance(resource, dict):
        raise InvalidConceptMapError("the body must be a ConceptMap resource")
    wanted = publishable(resource)
    if map_id is None:
        return save_concept_map(store, wanted)
    current = store.maps.get_concept_map(map_id)
    if (wanted["url"], wanted["version"]) != (current.url, current.version):
        raise InvalidConceptMapError(
            f"ConceptMap/{map_id} is {current.url}|{current.version}: a PUT cannot change its url or"
            " version; POST the new version instead"
        )
    unchanged = {k: v for k, v in current.resource.items() if k != "status"}
    if unchanged != {k: v for k, v in wanted.items() if k != "status"}:
        raise ConceptMapVersionConflictError(
            f"{current.url}|{current.version} is published: its content never changes; POST a new version"
        )
    status = str(wanted.get("status", current.status))
    if expected_revision is not None and expected_revision != current.revision:
        raise StaleConceptMapError(
            f"ConceptMap/{map_id} is at revision {current.revision}, not {expected_revision} (If-Match):"
            " someone changed it since you read it; read it again and redo your change"
        )
    if status == current.status:
        return current, False
    check_status_change(current.status, status)
    return store.maps.set_status(map_id, status, expected_revision=current.revision), True


def change_status(store: Backends, map_id: int, status: str) -> StoredMap:
    """Move a version along draft → active → retired (its content does not change)."""
    check_status_change(store.maps.get_concept_map(map_id).status, status)
    return store.maps.set_status(map_id, status)


def publish_project(
    store: Backends,
    project: Project,
    *,
    status: str = "active",
    publisher: str = "Concordance",
    url: str | None = None,
    version: str | None = None,
) -> StoredMap:
    """A new immutable version of the project's ConceptMap from its accepted decisions
    (``url`` defaults to one derived from the project name; ``version`` to the publication
    time, ``YYYYMMDDhhmmss``)."""
    source = store.code_system_by_id(project.source_system_id)
    target = store.code_system_by_id(project.target_system_id)
    url = url or CANONICAL_BASE + slug(project.name)
    rows = [row for row, _ in store.rows.list_rows(project, RowQuery(limit=10**7))[0]]
    source_codes = [row.source_code for row in rows]
    target_codes = [t.code for row in rows for t in row.targets]
    resource = build_concept_map(
        rows,
        source,
        target,
        url=url,
        name=project.name,
        version=version or unused_version(store, url, business_version()),
        status=status,
        publisher=publisher,
        displays=(
            _labels(store.displays(source, source_codes)),
            _labels(store.displays(target, target_codes)),
        ),
    )
    stored, _ = save_concept_map(store, resource, project_id=project.id)
    return stored


def unused_version(store: Backends, url: str, wanted: str) -> str:
    """``wanted``, or ``wanted-2``, ``-3``… when a version of that name exists: two
    publications within one second (two reviewers, two workers) are two versions, not a
    conflict the second one has to retry."""
    taken = {stored.version for stored in store.maps.search_concept_maps(url=url)}
    version, number = wanted, 2
    while version in taken:
        version, number = f"{wanted}-{number}", number + 1
    return version


def _labels(displays: dict[str, str | None]) -> dict[str, str]:
    return {code: label for code, label in displays.items() if label is not None}


class MapDiff(Frozen):
    """What changed from one ConceptMap version to another."""

    old: StoredMap
    new: StoredMap
    changes: tuple[MapChange, ...]

    @property
    def counts(self) -> dict[str, int]:
        return {kind: sum(c.kind == kind for c in self.changes) for kind in ("added", "removed", "changed")}


def diff_versions(store: Backends, old_id: int, new_id: int) -> MapDiff:
    """Added, removed and changed mappings between two stored versions (by id)."""
    old, new = store.maps.get_concept_map(old_id), store.maps.get_concept_map(new_id)
    return MapDiff(old=old, new=new, changes=tuple(diff_maps(old.resource, new.resource)))


def serve_bundled_maps(store: Backends, *, url: str = "http://127.0.0.1:8000") -> str:
    """Serve the bundled maps: the curated SAMU-Hub correspondence 1.9 → 2.3 (validated by
    ANS) as an active ConceptMap, and the HL7 example ConceptMaps as they were published;
    returns what to print (with requests to try against ``url``)."""
    from terminology.publication.bundled import HL7_EXAMPLES, SAMU_SYSTEM, samu_correspondence

    curated = samu_correspondence()
    try:
        stored, _ = save_concept_map(store, curated)
    except ConceptMapVersionConflictError:  # a database an older Concordance wrote it to: kept as is
        stored = store.maps.search_concept_maps(url=curated["url"], version=curated["version"])[0]
    imported = 0
    for path in HL7_EXAMPLES:
        try:
            save_concept_map(store, json.loads(path.read_text(encoding="utf-8")))
            imported += 1
        except ConcordanceError:
            continue  # a map without url or version cannot be served as a version
    codes = len(curated["group"][0]["element"])
    system = SAMU_SYSTEM
    return (
        f"ConceptMap/{stored.id} {stored.url}|{stored.version}: {codes} curated SAMU-Hub codes; "
        f"{imported} HL7 example ConceptMaps imported.\n"
        "Try:\n"
        f"  curl -s '{url}/fhir/ConceptMap/$translate?url={stored.url}&system={system}&code=C02.05.03'\n"
        f"  curl -s '{url}/fhir/ConceptMap/$translate?system=http://hl7.org/fhir/address-use&code=home"
        "&targetsystem=http://terminology.hl7.org/CodeSystem/v3-AddressUse'\n"
        f"  curl -s '{url}/fhir/CodeSystem/$lookup?system={system}&version=2.3&code=C02.18.00'\n"
        f"  curl -s '{url}/fhir/CodeSystem/$validate-code?url={system}&code=C02.18.00"
        "&display=Probl%C3%A8me%20psychiatrique%2C%20menace%20de%20suicide'\n"
        f"  curl -s '{url}/fhir/ConceptMap?_count=5'"
    )


class ImpactedMapping(Frozen):
    source_code: str
    target_code: str
    reason: str


def release_impact(
    store: Backends, resource: dict[str, Any], new_target: CodeSystem
) -> list[ImpactedMapping]:
    """Mappings of ``resource`` into ``new_target``'s code system whose target is gone,
    inactive or relabelled in ``new_target``, compared with the version the map was built on."""
    found: list[ImpactedMapping] = []
    for group in resource.get("group", []):
        if group.get("target") != new_target.url:
            continue
        built_on = store.find_code_system(new_target.url, group.get("targetVersion"))
        if built_on is None or built_on.id == new_target.id:
            continue
        reasons = changed_codes(store, built_on, new_target)
        for element in group.get("element", []):
            for target in element.get("target", []):
                code = target.get("code")
                if code in reasons:
                    found.append(
                        ImpactedMapping(source_code=element["code"], target_code=code, reason=reasons[code])
                    )
    return found


def get_concept_map(store: Backends, map_id: int) -> StoredMap:
    """One stored ConceptMap version (:class:`~terminology.records.ConceptMapNotFoundError`
    when there is none)."""
    return store.maps.get_concept_map(map_id)


def search_concept_maps(
    store: Backends,
    *,
    url: str | None = None,
    version: str | None = None,
    name: str | None = None,
    status: str | None = None,
    source: str | None = None,
    target: str | None = None,
) -> list[StoredMap]:
    """Stored ConceptMap versions matching every filter given (FHIR search semantics)."""
    return store.maps.search_concept_maps(
        url=url, version=version, name=name, status=status, source=source, target=target
    )
