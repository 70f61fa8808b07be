"""Concordance: semantic terminology mapping for health data.

The ``terminology`` package is the domain: code systems, importers, storage
and the command line. It never imports the web framework; ``api`` is a thin
edge over it.
"""

__version__ = "0.1.0"
