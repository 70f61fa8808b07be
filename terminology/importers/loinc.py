"""The LOINC table (``Loinc.csv``) and its linguistic variants (e.g. French).

The six axes become properties that matching rules use later (the specimen
``SYSTEM``, ``PROPERTY`` against units, ``SCALE_TYP``); the long common name is
the display; short names, the fully specified name built from the axes and
every variant's names become designations in their language.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

from pydantic import Field, field_validator

from terminology.errors import SourceFileError
from terminology.importers.base import (
    Importer,
    ImportOptions,
    ImportSource,
    ProgressCallback,
    comma_list,
    dict_rows,
    no_progress,
    require_file,
)
from terminology.models import CodeSystemMetadata, ConceptRecord, Designation, DesignationUse

AXES = ("COMPONENT", "PROPERTY", "TIME_ASPCT", "SYSTEM", "SCALE_TYP", "METHOD_TYP")
PROPERTY_COLUMNS = (*AXES, "CLASS", "CLASSTYPE", "STATUS", "ORDER_OBS", "EXAMPLE_UNITS", "EXAMPLE_UCUM_UNITS")
INACTIVE = frozenset({"DEPRECATED"})
VARIANT_NAME = re.compile(r"^([a-z]{2})([A-Z]{2})\d*LinguisticVariant", re.IGNORECASE)


def fully_specified_name(row: dict[str, str]) -> str:
    """``COMPONENT:PROPERTY:TIME:SYSTEM:SCALE[:METHOD]``, LOINC's fully specified name."""
    parts = [row.get(axis, "").strip() for axis in AXES]
    if not parts[-1]:
        parts.pop()
    return ":".join(parts)


def variant_language(path: Path) -> str | None:
    """``frFR18LinguisticVariant.csv`` → ``fr-FR``."""
    match = VARIANT_NAME.match(path.name)
    return f"{match.group(1).lower()}-{match.group(2).upper()}" if match else None


class LoincOptions(ImportOptions):
    variants: list[str] = Field(default_factory=list)
    """Linguistic-variant files, relative to the main table's folder."""

    _split = field_validator("variants", mode="before")(comma_list)


class LoincImporter(Importer):
    format_name = "loinc"
    summary = "LOINC table CSV (Loinc.csv) with linguistic variants as designations"
    options_model = LoincOptions
    options: LoincOptions

    def open(self, path: Path, progress: ProgressCallback = no_progress) -> ImportSource:
        require_file(path)
        variants = [require_file(path.parent / name) for name in self.options.variants]
        metadata = CodeSystemMetadata(
            url="http://loinc.org", name="LOINC", title="LOINC", publisher="Regenstrief Institute, Inc."
        )
        return ImportSource.from_records(metadata, [path, *variants], self._records(path, variants, progress))

    def _records(
        self, path: Path, variants: list[Path], progress: ProgressCallback
    ) -> Iterator[ConceptRecord]:
        translated: dict[str, list[Designation]] = {}
        for variant in variants:
            for _, row in dict_rows(variant, ("LOINC_NUM",), progress, kind="LOINC"):
                translated.setdefault(row["LOINC_NUM"].strip(), []).extend(
                    _variant_designations(variant, row)
                )
        for line, row in dict_rows(path, ("LOINC_NUM", *AXES, "STATUS"), progress, kind="LOINC"):
            code = row["LOINC_NUM"].strip()
            names = [
                Designation("en", DesignationUse.FULLY_SPECIFIED, fully_specified_name(row)),
                *_present("en", DesignationUse.ABBREVIATION, row.get("SHORTNAME")),
                *_present("en", DesignationUse.SYNONYM, row.get("DisplayName")),
                *_present("en", DesignationUse.SYNONYM, row.get("CONSUMER_NAME")),
                *translated.pop(code, []),
            ]
            display = (
                (row.get("LONG_COMMON_NAME") or "").strip() or (row.get("SHORTNAME") or "").strip() or None
            )
            status = row["STATUS"].strip().upper()
            yield ConceptRecord(
                code=code,
                display=display,
                definition=(row.get("DefinitionDescription") or "").strip() or None,
                active=status not in INACTIVE,
                properties={c: row[c].strip() for c in PROPERTY_COLUMNS if (row.get(c) or "").strip()},
                designations=tuple(dict.fromkeys(names)),
                line=line,
            )
        if translated:
            orphan = next(iter(translated))
            raise SourceFileError(variants[0], f"variant names LOINC_NUM {orphan!r}, absent from {path.name}")


def _present(language: str, use: DesignationUse, value: str | None) -> list[Designation]:
    return [Designation(language, use, value.strip())] if value and value.strip() else []


def _variant_designations(path: Path, row: dict[str, str]) -> list[Designation]:
    language = variant_language(path)
    names = [
        *_present(language or "", DesignationUse.PREFERRED, row.get("LinguisticVariantDisplayName")),
        *_present(language or "", DesignationUse.PREFERRED, row.get("LONG_COMMON_NAME")),
        *_present(language or "", DesignationUse.ABBREVIATION, row.get("SHORTNAME")),
    ]
    if all((row.get(axis) or "").strip() for axis in AXES[:5]):
        names.append(Designation(language, DesignationUse.FULLY_SPECIFIED, fully_specified_name(row)))
    related = [name.strip() for name in (row.get("RELATEDNAMES2") or "").split(";") if name.strip()]
    names.extend(Designation(language, DesignationUse.SYNONYM, name) for name in related)
    return [Designation(language, d.use, d.value) for d in names]
