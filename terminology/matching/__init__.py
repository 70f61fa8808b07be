"""Matching: propose, for each source concept, a short ranked list of target concepts.

Normalisation (`normalise`), the files of ``mapping_rules/`` (`rule_files`) and the
indexed candidate search (`search`) are separate modules; nothing here imports
the web framework.
"""
