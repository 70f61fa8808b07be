"""Importers, found by format name through a lazy registry.

Like RDFLib plugins, an importer's module is only imported when its format is
asked for, so a new format is one new module plus one line here.
"""

from __future__ import annotations

from importlib import import_module

from terminology.errors import UnknownFormatError
from terminology.importers.base import Importer, ImportOptions, ImportSource

_REGISTRY: dict[str, str] = {
    "csv": "terminology.importers.tabular:TabularImporter",
    "fhir": "terminology.importers.fhir:FhirCodeSystemImporter",
    "claml": "terminology.importers.claml:ClamlImporter",
    "loinc": "terminology.importers.loinc:LoincImporter",
    "snomed-rf2": "terminology.importers.snomed_rf2:SnomedRf2Importer",
    "owl": "terminology.importers.owl:OwlImporter",
    "skos": "terminology.importers.skos:SkosImporter",
}

_ALIASES: dict[str, str] = {"tsv": "csv", "xlsx": "csv", "excel": "csv", "rf2": "snomed-rf2", "rdf": "skos"}


def format_names() -> list[str]:
    """The registered format names, in registration order."""
    return list(_REGISTRY)


def importer_class(format_name: str) -> type[Importer]:
    """The importer class for a format name or alias."""
    name = _ALIASES.get(format_name.lower(), format_name.lower())
    target = _REGISTRY.get(name)
    if target is None:
        known = ", ".join(format_names())
        raise UnknownFormatError(f"unknown format {format_name!r}; known formats: {known}")
    module_name, class_name = target.split(":")
    cls: type[Importer] = getattr(import_module(module_name), class_name)
    return cls


def register(format_name: str, target: str) -> None:
    """Register an importer given as ``"package.module:Class"``, loaded on first use."""
    _REGISTRY[format_name] = target


__all__ = [
    "ImportOptions",
    "ImportSource",
    "Importer",
    "format_names",
    "importer_class",
    "register",
]
