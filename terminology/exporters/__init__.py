"""Exporters, one module per format (SSSOM now; FHIR ConceptMap and CSV with publication)."""
