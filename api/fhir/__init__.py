"""FHIR R4 terminology routes under ``/fhir`` (``application/fhir+json``).

One module per resource or operation family, all registering on one router; the order
of import matters, since ``/ConceptMap/$translate`` must be matched before
``/ConceptMap/{map_id}``.
"""

from __future__ import annotations

# isort: off
# Importing a module registers its routes, in this order: $translate first (the hot path,
# and before /ConceptMap/{map_id}, which would otherwise take "$translate" for an id).
from api.fhir import translate  # noqa: F401
from api.fhir import conceptmap  # noqa: F401
from api.fhir import codesystem  # noqa: F401
from api.fhir import valueset  # noqa: F401
from api.fhir import valueset_store  # noqa: F401
from api.fhir import metadata  # noqa: F401
from api.fhir import writes  # noqa: F401

# isort: on
from api.fhir.router import router
from api.outcome import FHIR_JSON, FhirError, fhir_response, operation_outcome, render_fhir_error
from terminology.services.translation import MapCache

__all__ = [
    "FHIR_JSON",
    "FhirError",
    "MapCache",
    "fhir_response",
    "operation_outcome",
    "render_fhir_error",
    "router",
]
