"""The one router of the FHIR routes: every module registers on it, so a request is
matched against one flat list (nested routers cost a match per level on the hot path)."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(prefix="/fhir", tags=["fhir"])
