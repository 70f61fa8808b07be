"""OWL ontologies through owlready2 (RDF/XML, OWL/XML, N-Triples): classes, labels in
several languages (rdfs:label, SKOS, OBO synonyms), ``subClassOf`` hierarchy."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Literal

import rdflib

from terminology.errors import SourceFileError
from terminology.importers.base import (
    Importer,
    ImportOptions,
    ImportSource,
    ProgressCallback,
    no_progress,
    require_file,
)
from terminology.importers.rdf_labels import DEFINITION_IRIS, LABEL_USES, OWL, RDFS, local_name
from terminology.importers.skos import choose_display
from terminology.importers.xml_safety import refuse_entity_declarations
from terminology.models import CodeSystemMetadata, ConceptRecord, Designation

SUPPORTED = frozenset({".owl", ".rdf", ".xml", ".nt", ".ofn", ".owx"})


class OwlOptions(ImportOptions):
    code_from: Literal["local-name", "iri"] = "local-name"
    """A class's code: its IRI's local name, or the whole IRI."""
    language: str | None = None
    """Preferred language of the rdfs:label used as display."""


class OwlImporter(Importer):
    format_name = "owl"
    summary = "OWL ontologies (RDF/XML, OWL/XML, N-Triples) through owlready2"
    options_model = OwlOptions
    options: OwlOptions

    def open(self, path: Path, progress: ProgressCallback = no_progress) -> ImportSource:
        require_file(path)
        if path.suffix.lower() not in SUPPORTED:
            raise SourceFileError(
                path, f"owlready2 reads {', '.join(sorted(SUPPORTED))}; use the skos format for Turtle"
            )
        if path.suffix.lower() != ".nt":
            refuse_entity_declarations(path)
        imports = imports_of(path)
        ontology = _load(path, imports)
        progress(path.stat().st_size)
        version = ontology.metadata.versionInfo
        metadata = CodeSystemMetadata(
            url=ontology.base_iri.rstrip("#/") or None,
            version=str(version[0]) if version else None,
            name=ontology.name,
            title=str(ontology.metadata.label[0]) if ontology.metadata.label else ontology.name,
            language=self.options.language,
        )
        source = ImportSource.from_records(metadata, [path], self._records(ontology))
        source.notes.extend(
            f"owl:imports <{iri}> not fetched (importers never touch the network): import that file"
            " on its own if its classes are needed"
            for iri in imports
        )
        return source

    def _records(self, ontology: Any) -> Iterator[ConceptRecord]:
        import owlready2

        for cls in sorted(ontology.classes(), key=lambda c: c.iri):
            names: list[Designation] = []
            definition = None
            deprecated = False
            for prop in cls.get_class_properties():
                if not isinstance(prop, owlready2.AnnotationPropertyClass):
                    continue
                values = prop[cls]
                if prop.iri in LABEL_USES:
                    names.extend(
                        Designation(getattr(v, "lang", None) or None, LABEL_USES[prop.iri], str(v))
                        for v in values
                    )
                elif prop.iri in DEFINITION_IRIS or (prop.iri == f"{RDFS}comment" and definition is None):
                    definition = str(values[0]) if values else definition
                elif prop.iri == f"{OWL}deprecated":
                    deprecated = any(bool(v) for v in values)
            names = sorted(set(names), key=lambda d: (d.use.value != "preferred", d.language or "", d.value))
            parents = [
                p for p in cls.is_a if isinstance(p, owlready2.ThingClass) and p is not owlready2.Thing
            ]
            yield ConceptRecord(
                code=self._code(cls.iri),
                display=choose_display(names, self.options.language),
                definition=definition,
                active=not deprecated,
                properties={"iri": cls.iri},
                designations=tuple(names),
                parents=tuple(sorted(self._code(p.iri) for p in parents)),
                where=f"<{cls.iri}>",
            )

    def _code(self, iri: str) -> str:
        return iri if self.options.code_from == "iri" else local_name(iri)


def imports_of(path: Path) -> list[str]:
    """The IRIs the file's ontology declares with ``owl:imports`` (read with rdflib for the
    RDF serialisations, by their one element form for OWL/XML and functional syntax)."""
    suffix = path.suffix.lower()
    if suffix in (".owl", ".rdf", ".xml", ".nt"):
        graph = rdflib.Graph()
        try:
            graph.parse(path, format="nt" if suffix == ".nt" else "xml")
        except Exception:  # owlready2 reports what is wrong with the file, with its own words
            return []
        return sorted({str(iri) for iri in graph.objects(None, rdflib.OWL.imports)})
    text = path.read_text(encoding="utf-8", errors="replace")
    pattern = OWX_IMPORT if suffix == ".owx" else OFN_IMPORT
    return sorted({match.strip() for match in pattern.findall(text)})


OWX_IMPORT = re.compile(r"<(?:\w+:)?Import>\s*([^<\s]+)\s*</(?:\w+:)?Import>")
OFN_IMPORT = re.compile(r"\bImport\s*\(\s*<([^>]+)>\s*\)")


def _load(path: Path, imports: list[str]) -> Any:
    """Load into a world of its own, so imports never share or leak state. The imported
    ontologies are marked loaded (empty) first: owlready2 would otherwise download them."""
    import owlready2

    world = owlready2.World()
    for iri in imports:
        world.get_ontology(iri).loaded = True
    try:
        return world.get_ontology(path.resolve().as_uri()).load(only_local=True)
    except Exception as error:  # owlready2 raises its own and the parsers' error types
        raise SourceFileError(
            path, f"not a readable OWL ontology: {str(error).splitlines()[0][:200]}"
        ) from error
