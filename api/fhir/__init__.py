"""FHIR R4 terminology routes under ``/fhir`` (``application/fhir+json``).

One module per resource or operation family; the order of inclusion matters, since
``/ConceptMap/$translate`` must be matched before ``/ConceptMap/{map_id}``.
"""

from __future__ import annotations

from fastapi import APIRouter

from api.fhir import codesystem, conceptmap, metadata, translate
from api.fhir.outcome import FHIR_JSON, FhirError, fhir_response, operation_outcome, render_fhir_error
from api.fhir.translate import MapCache

router = APIRouter(prefix="/fhir", tags=["fhir"])
router.include_router(translate.router)
router.include_router(conceptmap.router)
router.include_router(codesystem.router)
router.include_router(metadata.router)

__all__ = [
    "FHIR_JSON",
    "FhirError",
    "MapCache",
    "fhir_response",
    "operation_outcome",
    "render_fhir_error",
    "router",
]
