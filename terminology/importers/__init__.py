"""Importers, found by format name through a lazy registry.

Like RDFLib plugins, an importer's module is only imported when its format is
asked for, so a new format is one new module plus one line here.
"""

from __future__ import annotations

from importlib import import_module

from terminology.errors import UnknownFormatError
from terminology.importers.base import Importer, ImportOptions, ImportSource

_REGISTRY: dict[str, tuple[str, tuple[str, ...]]] = {
    "csv": (
        "terminology.importers.tabular:TabularImporter",
        (
            "text/csv",
            "text/tab-separated-values",
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        ),
    ),
    "fhir": ("terminology.importers.fhir:FhirCodeSystemImporter", ("application/fhir+json",)),
    "claml": ("terminology.importers.claml:ClamlImporter", ()),
    "loinc": ("terminology.importers.loinc:LoincImporter", ()),
    "snomed-rf2": ("terminology.importers.snomed_rf2:SnomedRf2Importer", ()),
    "owl": ("terminology.importers.owl:OwlImporter", ("application/owl+xml", "text/owl-functional")),
    "skos": (
        "terminology.importers.skos:SkosImporter",
        ("text/turtle", "application/rdf+xml", "application/ld+json", "application/n-triples"),
    ),
}
"""Format name → (``module:Class``, media types). ClaML, LOINC tables and RF2 release
folders have no media type of their own (they are XML, CSV and folders): by name only."""

_ALIASES: dict[str, str] = {"tsv": "csv", "xlsx": "csv", "excel": "csv", "rf2": "snomed-rf2", "rdf": "skos"}


def format_names() -> list[str]:
    """The registered format names, in registration order."""
    return list(_REGISTRY)


def media_types(format_name: str) -> tuple[str, ...]:
    """The media types an importer is found by (HTTP ``Content-Type``), besides its name."""
    return _REGISTRY[_name_of(format_name)][1]


def _name_of(wanted: str) -> str:
    wanted = wanted.split(";")[0].strip().lower()
    name = _ALIASES.get(wanted, wanted)
    if name in _REGISTRY:
        return name
    for format_name, (_, types) in _REGISTRY.items():
        if wanted in types:
            return format_name
    known = ", ".join(format_names())
    raise UnknownFormatError(f"unknown format {wanted!r}; known formats: {known}")


def importer_class(format_name: str) -> type[Importer]:
    """The importer class for a format name, alias or media type (loaded on first use).

    >>> importer_class("text/turtle").__name__, importer_class("xlsx").__name__
    ('SkosImporter', 'TabularImporter')
    """
    module_name, class_name = _REGISTRY[_name_of(format_name)][0].split(":")
    cls: type[Importer] = getattr(import_module(module_name), class_name)
    return cls


def register(format_name: str, target: str, media: tuple[str, ...] = ()) -> None:
    """Register an importer given as ``"package.module:Class"``, loaded on first use."""
    _REGISTRY[format_name] = (target, media)


__all__ = [
    "ImportOptions",
    "ImportSource",
    "Importer",
    "format_names",
    "importer_class",
    "media_types",
    "register",
]
