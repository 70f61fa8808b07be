"""ConceptMap exporters, found by short name or MIME type through a lazy registry.

Like RDFLib serializers, an exporter's module is imported only when its format is asked
for; looking exporters up by MIME type gives HTTP content negotiation for free.
"""

from __future__ import annotations

from collections.abc import Callable
from importlib import import_module
from typing import Any, Protocol

from terminology.errors import UnknownFormatError

ConceptMapExporter = Callable[[dict[str, Any]], str]


class ConceptMapReader(Protocol):
    """Reads a ConceptMap from text; ``version`` for a file that carries none."""

    def __call__(self, text: str, *, version: str | None = None) -> dict[str, Any]: ...


_REGISTRY: dict[str, tuple[str, str, str]] = {
    "fhir": (
        "application/fhir+json",
        "terminology.exporters.conceptmap_formats:to_fhir_json",
        "terminology.exporters.conceptmap_formats:from_fhir_json",
    ),
    "sssom": (
        "text/tab-separated-values",
        "terminology.exporters.conceptmap_formats:to_sssom",
        "terminology.publication.from_sssom:conceptmap_from_sssom",
    ),
    "csv": (
        "text/csv",
        "terminology.exporters.conceptmap_formats:to_csv",
        "terminology.exporters.conceptmap_formats:from_csv",
    ),
}
"""Short name → (MIME type, writer, reader), each ``module:function`` loaded on first use.
Every writer has the reader that reads its output back (the exporters' contract suite
checks the round trip)."""


def export_formats() -> dict[str, str]:
    """Short name → MIME type, in registration order."""
    return {name: mime for name, (mime, _, _) in _REGISTRY.items()}


def _entry(name_or_mime: str) -> tuple[str, str, str]:
    wanted = name_or_mime.split(";")[0].strip().lower()
    for name, entry in _REGISTRY.items():
        if wanted in (name, entry[0]) or (name == "fhir" and wanted in ("json", "application/json")):
            return entry
    raise UnknownFormatError(f"unknown export format {name_or_mime!r}; known: {', '.join(_REGISTRY)}")


def _load(target: str) -> Any:
    module_name, function_name = target.split(":")
    return getattr(import_module(module_name), function_name)


def exporter(name_or_mime: str) -> tuple[str, ConceptMapExporter]:
    """The (MIME type, function) of a format given by short name or MIME type.

    >>> exporter("text/csv")[0], exporter("sssom")[0]
    ('text/csv', 'text/tab-separated-values')
    """
    mime, writer, _ = _entry(name_or_mime)
    function: ConceptMapExporter = _load(writer)
    return mime, function


def reader(name_or_mime: str) -> ConceptMapReader:
    """The function reading a ConceptMap back from what :func:`exporter` wrote."""
    function: ConceptMapReader = _load(_entry(name_or_mime)[2])
    return function


def register(name: str, mime: str, target: str, reader_target: str) -> None:
    """Register an exporter and its reader, given as ``"package.module:function"``."""
    _REGISTRY[name] = (mime, target, reader_target)
