"""SKOS / RDF vocabularies (Turtle, RDF/XML, N-Triples, JSON-LD) through rdflib."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Literal

import rdflib
from rdflib.namespace import OWL, RDF, SKOS

from terminology.errors import SourceFileError
from terminology.importers.base import (
    Importer,
    ImportOptions,
    ImportSource,
    ProgressCallback,
    no_progress,
    require_file,
)
from terminology.importers.rdf_labels import DEFINITION_IRIS, LABEL_USES, local_name
from terminology.importers.xml_safety import refuse_entity_declarations
from terminology.models import CodeSystemMetadata, ConceptRecord, Designation, DesignationUse

FORMATS = {
    ".ttl": "turtle",
    ".rdf": "xml",
    ".xml": "xml",
    ".owl": "xml",
    ".nt": "nt",
    ".jsonld": "json-ld",
    ".n3": "n3",
}
XML_FORMATS = frozenset({"xml"})


def local_json_ld(path: Path) -> tuple[Any, list[str]]:
    """The JSON-LD document without its remote contexts, and the URLs left out: a string
    ``@context`` (or one inside a list), at any depth."""
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (ValueError, RecursionError) as error:
        raise SourceFileError(path, f"not JSON: {str(error)[:200]}") from error
    skipped: list[str] = []

    def local(node: Any) -> Any:
        if isinstance(node, list):
            return [local(item) for item in node]
        if not isinstance(node, dict):
            return node
        kept = {}
        for key, value in node.items():
            if key == "@context":
                contexts = value if isinstance(value, list) else [value]
                skipped.extend(c for c in contexts if isinstance(c, str))
                value = [local(c) for c in contexts if not isinstance(c, str)]
            kept[key] = local(value)
        return kept

    return local(document), skipped


class SkosOptions(ImportOptions):
    code_from: Literal["notation", "local-name", "iri"] = "notation"
    """``notation`` uses skos:notation when present, else the IRI's local name."""
    language: str | None = None
    """Preferred display language; by default the scheme's, else English, else any."""


def parse_graph(path: Path, notes: list[str] | None = None) -> rdflib.Graph:
    """Parse any RDF serialisation by file suffix, refusing XML entity declarations first;
    a JSON-LD document's remote contexts are left out (and said in ``notes``): rdflib would
    fetch them."""
    rdf_format = FORMATS.get(path.suffix.lower())
    if rdf_format is None:
        raise SourceFileError(path, f"unknown RDF file type {path.suffix!r} (use {', '.join(FORMATS)})")
    if rdf_format in XML_FORMATS:
        refuse_entity_declarations(path)
    graph = rdflib.Graph()
    try:
        if rdf_format == "json-ld":
            document, skipped = local_json_ld(path)
            (notes if notes is not None else []).extend(
                f"JSON-LD @context <{url}> not fetched (importers never touch the network): its terms are"
                " not expanded; inline the context"
                for url in skipped
            )
            graph.parse(data=json.dumps(document), format="json-ld", base=path.resolve().as_uri())
        else:
            graph.parse(path, format=rdf_format)
    except Exception as error:  # rdflib raises parser-specific types
        line = getattr(error, "lines", None)
        message = str(error).splitlines()[0][:200] if str(error) else type(error).__name__
        raise SourceFileError(
            path,
            f"malformed RDF: {message}",
            line=line + 1 if isinstance(line, int) else line_of_excerpt(path, str(error)),
        ) from error
    return graph


def line_of_excerpt(path: Path, message: str) -> int | None:
    r"""The line an rdflib message points at with ``at ^ in <excerpt>`` when it gives no line
    number (some Turtle errors are bare assertions): where the excerpt occurs in the file,
    if it occurs once.

    >>> import tempfile
    >>> with tempfile.NamedTemporaryFile("w", suffix=".ttl", delete=False) as handle:
    ...     _ = handle.write('@prefix s: <urn:s#> .\ns:a s:label "A" .\ns:b s:label "B')
    >>> line_of_excerpt(Path(handle.name), 'Quote expected in string at ^ in  s:label "^B')
    3
    """
    _, found, excerpt = message.partition(" at ^ in ")
    excerpt = excerpt.replace("^", "").strip()
    if not found or len(excerpt) < 3:
        return None
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return None
    if text.count(excerpt) != 1:
        return None
    return text[: text.index(excerpt)].count("\n") + 1


class SkosImporter(Importer):
    format_name = "skos"
    summary = "SKOS vocabularies in Turtle, RDF/XML, N-Triples or JSON-LD (rdflib)"
    options_model = SkosOptions
    options: SkosOptions

    def open(self, path: Path, progress: ProgressCallback = no_progress) -> ImportSource:
        require_file(path)
        notes: list[str] = []
        graph = parse_graph(path, notes)
        progress(path.stat().st_size)
        scheme = next(graph.subjects(RDF.type, SKOS.ConceptScheme), None)
        metadata = self._metadata(graph, scheme)
        source = ImportSource.from_records(metadata, [path], self._records(graph, metadata.language))
        source.notes.extend(notes)
        return source

    def _metadata(self, graph: rdflib.Graph, scheme: Any) -> CodeSystemMetadata:
        if scheme is None:
            return CodeSystemMetadata(language=self.options.language)
        title = graph.value(scheme, rdflib.URIRef("http://purl.org/dc/terms/title")) or graph.value(
            scheme, SKOS.prefLabel
        )
        version = graph.value(scheme, OWL.versionInfo)
        return CodeSystemMetadata(
            url=str(scheme),
            version=str(version) if version else None,
            title=str(title) if title else None,
            name=local_name(str(scheme)),
            language=self.options.language or (title.language if isinstance(title, rdflib.Literal) else None),
        )

    def _records(self, graph: rdflib.Graph, language: str | None) -> Iterator[ConceptRecord]:
        concepts = sorted(set(graph.subjects(RDF.type, SKOS.Concept)), key=str)
        code_of = {iri: self._code(graph, iri) for iri in concepts}
        parents: dict[Any, set[Any]] = {iri: set(graph.objects(iri, SKOS.broader)) for iri in concepts}
        for iri in concepts:
            for narrower in graph.objects(iri, SKOS.narrower):
                parents.setdefault(narrower, set()).add(iri)
        for iri in concepts:
            names = labels_of(graph, iri)
            yield ConceptRecord(
                code=code_of[iri],
                display=choose_display(names, language),
                definition=next(
                    (str(o) for p, o in graph.predicate_objects(iri) if str(p) in DEFINITION_IRIS), None
                ),
                active=not bool(graph.value(iri, OWL.deprecated)),
                properties={"iri": str(iri)},
                designations=tuple(names),
                parents=tuple(sorted(code_of.get(p, local_name(str(p))) for p in parents.get(iri, ()))),
                where=f"<{iri}>",
            )

    def _code(self, graph: rdflib.Graph, iri: Any) -> str:
        if self.options.code_from == "iri":
            return str(iri)
        notation = graph.value(iri, SKOS.notation) if self.options.code_from == "notation" else None
        return str(notation) if notation else local_name(str(iri))


def labels_of(graph: rdflib.Graph, iri: Any) -> list[Designation]:
    """Every label annotation of a resource as designations, with their language tags."""
    names = [
        Designation(getattr(value, "language", None), LABEL_USES[str(predicate)], str(value))
        for predicate, value in graph.predicate_objects(iri)
        if str(predicate) in LABEL_USES
    ]
    return sorted(set(names), key=lambda d: (d.use != DesignationUse.PREFERRED, d.language or "", d.value))


def choose_display(names: list[Designation], language: str | None) -> str | None:
    """The preferred label in the wanted language, else in English, else any preferred label."""
    preferred = [d for d in names if d.use is DesignationUse.PREFERRED]
    for wanted in (language, "en", None):
        for d in preferred:
            if wanted is None or (d.language or "").split("-")[0] == wanted.split("-")[0]:
                return d.value
    return names[0].value if names else None
