"""Stored ValueSets: imported from FHIR JSON files or written through the FHIR API, read
and searched, and used by ``$expand`` / ``$validate-code`` when a request names them by url.

One home for the rules the CLI, the API and the Python API share: what a storable ValueSet
is (url, version, a status, a ``compose`` or an ``expansion``), which version a url means
(:mod:`terminology.versions`), and that a version moves along draft → active → retired.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from terminology.backends import Backends
from terminology.errors import SourceFileError
from terminology.records import StoredValueSet
from terminology.valuesets.errors import InvalidValueSetError
from terminology.versions import pick_version

STATUSES = ("draft", "active", "retired", "unknown")
ORDER = {"draft": 0, "unknown": 0, "active": 1, "retired": 2}

__all__ = ["import_value_set_file", "read_value_set_file", "save_value_set", "stored_value_set"]


def storable(resource: Any, *, where: str = "the ValueSet") -> dict[str, Any]:
    """``resource`` checked as a ValueSet Concordance can store and serve (without the
    server's ``id`` and ``meta``); every problem named.

    >>> storable({"resourceType": "ValueSet", "url": "urn:v", "version": 1, "status": "active",
    ...           "compose": {"include": [{"system": "urn:c"}]}})["version"]
    '1'
    """
    if not isinstance(resource, dict) or resource.get("resourceType") != "ValueSet":
        kind = resource.get("resourceType") if isinstance(resource, dict) else type(resource).__name__
        raise InvalidValueSetError(f"{where}: a ValueSet resource is expected, not {kind!r}")
    problems = []
    if not isinstance(resource.get("url"), str) or not resource["url"]:
        problems.append("url is required (the canonical url the value set is asked by)")
    if resource.get("version") in (None, ""):
        problems.append("version is required (a stored version never changes once active)")
    if resource.get("status") not in STATUSES:
        problems.append(f"status must be one of {', '.join(STATUSES)}, not {resource.get('status')!r}")
    compose, expansion = resource.get("compose"), resource.get("expansion")
    if not isinstance(compose, dict) and not isinstance(expansion, dict):
        problems.append("a compose (the rules) or an expansion (the list) is required")
    if isinstance(compose, dict) and not isinstance(compose.get("include"), list):
        problems.append("compose.include must be a list")
    if problems:
        raise InvalidValueSetError(f"{where}: " + "; ".join(problems))
    kept = {k: v for k, v in resource.items() if k not in ("id", "meta")}
    kept["version"] = str(resource["version"])
    return kept


def read_value_set_file(
    path: Path, *, status: str | None = None, version: str | None = None
) -> dict[str, Any]:
    """A ValueSet from a FHIR JSON file; ``status`` / ``version`` override the file's."""
    try:
        resource = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as error:
        raise SourceFileError(path, f"cannot be read ({error})") from error
    except (ValueError, RecursionError) as error:
        raise SourceFileError(path, f"not a JSON file ({str(error)[:200]})") from error
    if isinstance(resource, dict):
        if status:
            resource["status"] = status
        if version:
            resource["version"] = version
    try:
        return storable(resource, where=str(path))
    except InvalidValueSetError as error:
        raise SourceFileError(path, str(error).removeprefix(f"{path}: ")) from error


def import_value_set_file(
    store: Backends, path: Path, *, status: str | None = None, version: str | None = None
) -> tuple[StoredValueSet, bool]:
    """Store the ValueSet a file holds; returns it and whether anything changed."""
    return save_value_set(store, read_value_set_file(path, status=status, version=version))


def save_value_set(
    store: Backends, resource: Any, *, expected_revision: int | None = None
) -> tuple[StoredValueSet, bool]:
    """Store a ValueSet version (checked; its status only moves forward); ``expected_revision``
    is a writer's ``If-Match``. Returns it and whether anything changed."""
    checked = storable(resource)
    current = store.value_sets.search_value_sets(url=checked["url"], version=checked["version"])
    if current and ORDER[checked["status"]] < ORDER[current[0].status]:
        raise InvalidValueSetError(
            f"ValueSet {checked['url']}|{checked['version']} is {current[0].status}: it cannot go back to"
            f" {checked['status']}"
        )
    return store.value_sets.save_value_set(checked, expected_revision=expected_revision)


def stored_value_set(store: Backends, url: str, version: str | None) -> dict[str, Any] | None:
    """The stored version a request means by url (and version): that one, else the latest
    active, else the latest — as for code systems and ConceptMaps."""
    found = store.value_sets.search_value_sets(url=url)
    chosen = pick_version(
        found,
        version,
        version_of=lambda stored: stored.version,
        is_active=lambda stored: stored.status == "active",
    )
    return chosen.as_served() if chosen is not None else None


def get_value_set(store: Backends, value_set_id: int) -> StoredValueSet:
    """One stored ValueSet version (:class:`~terminology.records.ValueSetNotFoundError` when
    there is none)."""
    return store.value_sets.get_value_set(value_set_id)


def search_value_sets(
    store: Backends,
    *,
    url: str | None = None,
    version: str | None = None,
    name: str | None = None,
    status: str | None = None,
) -> list[StoredValueSet]:
    """Stored ValueSet versions matching every filter given."""
    return store.value_sets.search_value_sets(url=url, version=version, name=name, status=status)
