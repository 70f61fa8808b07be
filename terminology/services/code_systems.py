"""Code systems: the manifests that list what to import (``data/bundled.toml``)."""

from __future__ import annotations

import tomllib
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from terminology.errors import SourceFileError
from terminology.models import CodeSystemMetadata

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
