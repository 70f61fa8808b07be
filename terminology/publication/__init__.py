"""Publication: immutable ConceptMap versions from curated decisions, and translation."""
