"""Refuse XML that declares entities before any parser sees it.

ClaML files carry a DOCTYPE naming ClaML.dtd, which is harmless; entity
declarations are not (external entities read local files, nested ones blow up
memory), and no terminology release needs them.
"""

from __future__ import annotations

from pathlib import Path
from xml.parsers import expat

from terminology.errors import SourceFileError, UnsafeXmlError


def refuse_entity_declarations(path: Path) -> None:
    """Scan the file with expat, stopping at the first entity declaration."""
    parser = expat.ParserCreate()

    def refuse(name: str, *_: object) -> None:
        raise UnsafeXmlError(
            path,
            f"declares the entity {name!r}; entities are refused (XXE / entity expansion)",
            line=parser.CurrentLineNumber,
        )

    parser.EntityDeclHandler = refuse
    parser.UnparsedEntityDeclHandler = refuse
    parser.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)
    try:
        with path.open("rb") as handle:
            parser.ParseFile(handle)
    except expat.ExpatError as error:
        raise SourceFileError(
            path, f"malformed XML: {expat.ErrorString(error.code)}", line=error.lineno
        ) from error
