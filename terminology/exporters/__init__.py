"""ConceptMap exporters, found by short name or MIME type through a lazy registry.

Like RDFLib serializers, an exporter's module is imported only when its format is asked
for; looking exporters up by MIME type gives HTTP content negotiation for free.
"""

from __future__ import annotations

from collections.abc import Callable
from importlib import import_module
from typing import Any

from terminology.errors import UnknownFormatError

ConceptMapExporter = Callable[[dict[str, Any]], str]

_REGISTRY: dict[str, tuple[str, str]] = {
    "fhir": ("application/fhir+json", "terminology.exporters.conceptmap_formats:to_fhir_json"),
    "sssom": ("text/tab-separated-values", "terminology.exporters.conceptmap_formats:to_sssom"),
    "csv": ("text/csv", "terminology.exporters.conceptmap_formats:to_csv"),
}


def export_formats() -> dict[str, str]:
    """Short name → MIME type, in registration order."""
    return {name: mime for name, (mime, _) in _REGISTRY.items()}


def exporter(name_or_mime: str) -> tuple[str, ConceptMapExporter]:
    """The (MIME type, function) of a format given by short name or MIME type.

    >>> exporter("text/csv")[0], exporter("sssom")[0]
    ('text/csv', 'text/tab-separated-values')
    """
    wanted = name_or_mime.split(";")[0].strip().lower()
    for name, (mime, target) in _REGISTRY.items():
        if wanted in (name, mime) or (name == "fhir" and wanted in ("json", "application/json")):
            module_name, function_name = target.split(":")
            function: ConceptMapExporter = getattr(import_module(module_name), function_name)
            return mime, function
    raise UnknownFormatError(f"unknown export format {name_or_mime!r}; known: {', '.join(_REGISTRY)}")


def register(name: str, mime: str, target: str) -> None:
    """Register an exporter given as ``"package.module:function"``, loaded on first use."""
    _REGISTRY[name] = (mime, target)
