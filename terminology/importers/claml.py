"""ClaML XML: the format of WHO ICD-10 and of the ATIH's CIM-10 FR.

Classes stream one at a time (``iterparse``, each element cleared once read).
Rubrics ``preferred`` give the display; ``inclusion``, ``exclusion`` and other
label rubrics become designations; ``SuperClass`` gives parents. Modifiers
(``ModifiedBy`` / ``ModifierClass``) expand into the coded subdivisions they
define, unless the class names a code it already has or excludes the modifier.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any
from xml.etree.ElementTree import Element

from defusedxml.ElementTree import iterparse

from terminology.errors import SourceFileError
from terminology.importers.base import (
    Importer,
    ImportOptions,
    ImportSource,
    ProgressCallback,
    no_progress,
    open_counted,
    require_file,
)
from terminology.importers.xml_safety import refuse_entity_declarations
from terminology.models import CodeSystemMetadata, ConceptRecord, Designation, DesignationUse

RUBRIC_USES = {
    "inclusion": DesignationUse.INCLUSION,
    "exclusion": DesignationUse.EXCLUSION,
    "definition": DesignationUse.DEFINITION,
    "preferredLong": DesignationUse.FULLY_SPECIFIED,
}
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"


class ClamlOptions(ImportOptions):
    language: str | None = None
    """The labels' language, when the file does not say (e.g. fr)."""
    expand_modifiers: bool = True
    """Make the codes that modifiers (ModifierClass) add to categories, as ICD-10's fifth characters."""


def label_text(label: Element) -> str:
    """The text of a ClaML label, its mixed content (References, Terms) flattened."""
    return " ".join("".join(label.itertext()).split())


class ClamlImporter(Importer):
    format_name = "claml"
    summary = "ClaML XML (WHO ICD-10, ATIH CIM-10 FR): rubrics, hierarchy, modifiers"
    options_model = ClamlOptions
    options: ClamlOptions

    def open(self, path: Path, progress: ProgressCallback = no_progress) -> ImportSource:
        require_file(path)
        refuse_entity_declarations(path)
        metadata = self._metadata(path)
        return ImportSource.from_records(metadata, [path], self._records(path, progress))

    def _metadata(self, path: Path) -> CodeSystemMetadata:
        for _, element in self._elements(path, no_progress):
            if element.tag == "Title":
                return CodeSystemMetadata(
                    name=element.get("name"),
                    version=element.get("version"),
                    title=(element.text or "").strip() or element.get("name"),
                    language=self.options.language,
                )
            if element.tag == "Class":
                break
        return CodeSystemMetadata(language=self.options.language)

    def _elements(self, path: Path, progress: ProgressCallback) -> Iterator[tuple[str, Element]]:
        try:
            with open_counted(path, progress) as handle:
                yield from iterparse(handle, events=("end",), forbid_dtd=False)
        except SourceFileError:
            raise
        except Exception as error:  # ParseError and defusedxml refusals
            position = getattr(error, "position", (None, None))[0]
            raise SourceFileError(path, f"malformed ClaML: {error}", line=position) from error

    def _records(self, path: Path, progress: ProgressCallback) -> Iterator[ConceptRecord]:
        modifiers: dict[str, list[tuple[str, str]]] = {}
        pending: list[tuple[str, str | None, str, set[str]]] = []
        codes: set[str] = set()
        for _, element in self._elements(path, progress):
            if element.tag == "ModifierClass":
                label = element.find("Rubric[@kind='preferred']/Label")
                modifiers.setdefault(element.get("modifier", ""), []).append(
                    (element.get("code", ""), label_text(label) if label is not None else "")
                )
                element.clear()
            elif element.tag == "Class":
                record = self._class_record(path, element)
                codes.add(record.code)
                if self.options.expand_modifiers:
                    excluded = {e.get("code", "") for e in element.findall("ExcludeModifier")}
                    for used in element.findall("ModifiedBy"):
                        if used.get("code") not in excluded:
                            pending.append((record.code, record.display, used.get("code", ""), set()))
                element.clear()
                yield record
        for code, display, modifier, _ in pending:
            for suffix, text in modifiers.get(modifier, []):
                derived = code + suffix if "." in code or suffix.startswith(".") else f"{code}.{suffix}"
                if derived not in codes:
                    codes.add(derived)
                    yield ConceptRecord(
                        derived,
                        f"{display}, {text}" if display else text,
                        parents=(code,),
                        properties={"modifier": modifier},
                        where=f'<ModifierClass modifier="{modifier}" code="{suffix}">',
                    )

    def _class_record(self, path: Path, element: Element) -> ConceptRecord:
        code = element.get("code")
        where = f'<Class code="{code}">'
        if not code:
            raise SourceFileError(path, "Class without a code attribute", element="<Class>", field="code")
        display: str | None = None
        designations: list[Designation] = []
        definition: str | None = None
        for rubric in element.findall("Rubric"):
            kind = rubric.get("kind", "")
            for label in rubric.findall("Label"):
                text = label_text(label)
                language = label.get(XML_LANG) or self.options.language
                if kind == "preferred" and display is None:
                    display = text
                elif kind == "definition":
                    definition = text
                elif text:
                    designations.append(
                        Designation(language, RUBRIC_USES.get(kind, DesignationUse.SYNONYM), text)
                    )
        properties: dict[str, Any] = {"kind": element.get("kind")} if element.get("kind") else {}
        usage = element.get("usage") or next(
            (m.get("value") for m in element.findall("Meta[@name='usage']")), None
        )
        if usage:
            properties["usage"] = usage
        return ConceptRecord(
            code=code,
            display=display,
            definition=definition,
            properties=properties or None,
            designations=tuple(designations),
            parents=tuple(s.get("code", "") for s in element.findall("SuperClass")),
            where=where,
        )
