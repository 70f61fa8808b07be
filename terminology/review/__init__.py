"""Curation: the review workflow, blind double mapping, users and the audit trail."""
