"""FHIR R4 structures shared by the importers and the API."""
