"""Code systems: the manifests that list what to import (``data/bundled.toml``), and what
changed between two versions for the mappings that point at them."""

from __future__ import annotations

import json
import tempfile
import tomllib
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import polars as pl

from terminology.backends import Backends, CodeSystemStore
from terminology.errors import ConcordanceError, SourceFileError
from terminology.models import CodeSystem, CodeSystemMetadata, ImportOutcome
from terminology.roots import HierarchyCheck, Root, chapters_of, check_hierarchy, list_roots

METADATA_KEYS = ("url", "version", "name", "title", "publisher", "language")


@dataclass(frozen=True)
class ManifestEntry:
    """One ``[[code_system]]`` of a manifest: what to import, from where, as what."""

    number: int
    format: str
    path: Path
    """Resolved against the manifest's folder."""
    options: dict[str, Any]
    metadata: CodeSystemMetadata


def read_manifest(manifest: Path, *, only: Iterable[str] | None = None) -> list[ManifestEntry]:
    """The entries of a TOML manifest (``only``: those with these ``name``s), checked: an
    unreadable file or an entry without ``format`` or ``path`` is refused, naming it.

    >>> import tempfile
    >>> folder = Path(tempfile.mkdtemp())
    >>> text = '[[code_system]]\\nname = "X"\\nformat = "csv"\\npath = "x.csv"\\n'
    >>> _ = (folder / "m.toml").write_text(text)
    >>> [(e.format, e.path.name, e.metadata.name) for e in read_manifest(folder / "m.toml")]
    [('csv', 'x.csv', 'X')]
    """
    try:
        entries = tomllib.loads(manifest.read_text(encoding="utf-8")).get("code_system", [])
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as error:
        raise SourceFileError(manifest, f"unreadable manifest: {error}") from error
    wanted = set(only) if only is not None else None
    found = []
    for number, entry in enumerate(entries, start=1):
        if wanted is not None and entry.get("name") not in wanted:
            continue
        missing = [key for key in ("format", "path") if key not in entry]
        if missing:
            raise SourceFileError(
                manifest, f"entry {number} lacks '{missing[0]}'", element=f"[[code_system]] #{number}"
            )
        found.append(
            ManifestEntry(
                number=number,
                format=str(entry["format"]),
                path=manifest.parent / str(entry["path"]),
                options=dict(entry.get("options", {})),
                metadata=CodeSystemMetadata(**{key: entry.get(key) for key in METADATA_KEYS}),
            )
        )
    return found


@dataclass(frozen=True, slots=True)
class RootsReport:
    """A version's roots, and whether every concept reaches a chapter."""

    system: CodeSystem
    roots: tuple[Root, ...]
    check: HierarchyCheck
    """Orphan roots (roots that are not chapters, when the version says which are)."""


def hierarchy_roots(store: CodeSystemStore, system: CodeSystem) -> RootsReport:
    """Every root of ``system`` with the concepts under it, chapters first; a classification
    whose concepts say which are chapters (a ``kind`` property) names its other roots as
    orphans: concepts that do not reach a chapter, which matching reads as unplaced."""
    links = store.parents_frame(system)
    concepts = store.concept_frame(system)
    chapters = chapters_of(store.property_frame(system, "kind").rename({"value": "kind"}))
    no_links = pl.DataFrame(schema={"code": pl.String, "parent": pl.String})
    return RootsReport(
        system=system,
        roots=tuple(list_roots(concepts.select("code"), links, concepts, chapters)),
        check=check_hierarchy(concepts.select("code"), links, no_links, chapters),
    )


def changed_codes(store: CodeSystemStore, old: CodeSystem, new: CodeSystem) -> dict[str, str]:
    """Codes of ``old`` that ``new`` drops, inactivates or relabels, with why (code → reason):
    what makes a mapping to them need a second look (curation flags, release impact)."""
    before, after = _displays(store, old), _displays(store, new)
    reasons: dict[str, str] = {}
    for code, (label, _) in before.items():
        if code not in after:
            reasons[code] = f"target {code} is not in {new.reference}"
        elif not after[code][1]:
            reasons[code] = f"target {code} is inactive in {new.reference}"
        elif after[code][0] != label:
            reasons[code] = f'target {code} relabelled in {new.reference}: "{label}" → "{after[code][0]}"'
    return reasons


def _displays(store: CodeSystemStore, system: CodeSystem) -> dict[str, tuple[str, bool]]:
    frame = store.labels_frame(system)
    frame = frame.filter(frame["use"] == "display").unique("code", keep="first")
    return {
        code: (label, active)
        for code, label, active in zip(
            frame["code"].to_list(), frame["label"].to_list(), frame["active"].to_list(), strict=True
        )
    }


class InvalidCodeSystemWriteError(ConcordanceError):
    code = "invalid-codesystem"
    http_status = 400
    fhir_issue = "invalid"


class StaleCodeSystemError(ConcordanceError):
    """``If-Match`` named a revision a stored version never had (they never change: 1)."""

    code = "stale-revision"
    http_status = 412
    fhir_issue = "conflict"


def write_code_system(
    store: Backends, resource: Any, *, system_id: int | None = None, expected_revision: int | None = None
) -> tuple[CodeSystem, bool]:
    """A publisher's FHIR write of a CodeSystem (``POST``, or ``PUT CodeSystem/{system_id}``),
    imported as the ``fhir`` importer imports a file — whole or not at all, never from the
    network. A stored version never changes (revision 1): the same content again is
    unchanged, other content under the same url|version a conflict (a new release is a new
    version). Returns the version and whether it is new."""
    from terminology.importers import importer_class
    from terminology.services.importing import import_code_system

    if not isinstance(resource, dict) or resource.get("resourceType") != "CodeSystem":
        raise InvalidCodeSystemWriteError("the body must be a CodeSystem resource")
    if not resource.get("url") or not resource.get("version"):
        raise InvalidCodeSystemWriteError("a CodeSystem written to the server needs its url and version")
    if system_id is not None:
        current = store.code_system_by_id(system_id)
        if (resource["url"], str(resource["version"])) != (current.url, current.version):
            raise InvalidCodeSystemWriteError(
                f"CodeSystem/{system_id} is {current.url}|{current.version}: a PUT cannot change its url or"
                " version; POST the new version instead"
            )
        if expected_revision not in (None, 1):
            raise StaleCodeSystemError(
                f"CodeSystem/{system_id} is at revision 1, not {expected_revision} (If-Match): stored"
                " versions never change"
            )
    body = {k: v for k, v in resource.items() if k not in ("id", "meta")}
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "CodeSystem.json"
        path.write_text(json.dumps(body, ensure_ascii=False), encoding="utf-8")
        try:
            report = import_code_system(store, importer_class("fhir").with_options({}), path)
        except SourceFileError as error:  # the file is ours, not the caller's: say the element
            raise InvalidCodeSystemWriteError(_in_the_resource(error)) from error
    return report.code_system, report.outcome == ImportOutcome.CREATED


def _in_the_resource(error: SourceFileError) -> str:
    """An import error about the resource written, named by its element (``CodeSystem.concept[0]:
    field 'code': ...``), never by the server's temporary file."""
    where = "CodeSystem" + (f".{error.element}" if error.element else "")
    what = f"field {error.field!r}: {error.reason}" if error.field else error.reason
    return f"{where}: {what}"
