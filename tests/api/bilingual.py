"""A small bilingual CIM-10 extract (French displays, English designations), stored the way
``concordance import csv`` stores it: the code system the FHIR language tests ask about."""

from __future__ import annotations

from pathlib import Path

from terminology.importers import importer_class
from terminology.models import CodeSystemMetadata
from terminology.services.importing import import_code_system
from terminology.storage.store import SqlStore

URL = "urn:test:cim10-bilingual"
FLU = "Grippe à virus grippal identifié"
FLU_EN = "Influenza due to identified influenza virus"
ROWS = (
    "code,label_fr,label_en,parent_code\n"
    "J10-J18,Grippe et pneumopathie,Influenza and pneumonia,\n"
    f"J10,{FLU},{FLU_EN},J10-J18\n"
)


def import_bilingual(store: SqlStore, folder: Path, *, extra_rows: str = "") -> None:
    """Store the extract (``extra_rows``: more CSV lines) as ``URL`` version 1, in French."""
    source = folder / "cim10.csv"
    source.write_text(ROWS + extra_rows, encoding="utf-8")
    options = {
        "display_column": "label_fr",
        "parent_column": "parent_code",
        "language_columns": "en=label_en",
    }
    import_code_system(
        store,
        importer_class("csv").with_options(options),
        source,
        overrides=CodeSystemMetadata(url=URL, version="1", language="fr", name="CIM10"),
    )
