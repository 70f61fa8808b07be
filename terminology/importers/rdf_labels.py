"""Label vocabulary shared by the OWL and SKOS importers.

Ontologies spell labels with SKOS, RDFS or the OBO in OWL conventions; one
table says how each annotation becomes a designation.
"""

from __future__ import annotations

from terminology.models import DesignationUse

SKOS = "http://www.w3.org/2004/02/skos/core#"
RDFS = "http://www.w3.org/2000/01/rdf-schema#"
OBO = "http://www.geneontology.org/formats/oboInOwl#"
OWL = "http://www.w3.org/2002/07/owl#"
DEFINITION_IRIS = frozenset({f"{SKOS}definition", "http://purl.obolibrary.org/obo/IAO_0000115"})
LABEL_USES: dict[str, DesignationUse] = {
    f"{SKOS}prefLabel": DesignationUse.PREFERRED,
    f"{RDFS}label": DesignationUse.PREFERRED,
    f"{SKOS}altLabel": DesignationUse.SYNONYM,
    f"{SKOS}hiddenLabel": DesignationUse.SYNONYM,
    f"{OBO}hasExactSynonym": DesignationUse.SYNONYM,
    f"{OBO}hasRelatedSynonym": DesignationUse.SYNONYM,
    f"{OBO}hasBroadSynonym": DesignationUse.SYNONYM,
    f"{OBO}hasNarrowSynonym": DesignationUse.SYNONYM,
}


def local_name(iri: str) -> str:
    """The part of an IRI after its last ``#`` or ``/``, the usual code of an ontology class.

    >>> local_name("http://purl.obolibrary.org/obo/MONDO_0005148")
    'MONDO_0005148'
    """
    return iri.rstrip("/#").rsplit("#", 1)[-1].rsplit("/", 1)[-1]
