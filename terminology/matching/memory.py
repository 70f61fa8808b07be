"""Mapping memory: decisions curators already validated, offered again as candidates.

A terminologist who mapped ``In Progress`` to ``active`` in one status map
expects the next status map to propose it; a translation memory does the same
for translators. The memory is a table of validated pairs (source label,
target system, target code, equivalence, where it was validated). A source
concept whose normalised label is in the memory gets the remembered target,
if that code exists and is active in the target version, scored by how
consistently it was chosen.

The file form is a CSV with the columns ``source_label``, ``target_system``,
``target_code`` and optionally ``equivalence`` and ``origin``.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from terminology.errors import SourceFileError
from terminology.matching.normalise import Normaliser

REQUIRED = ("source_label", "target_system", "target_code")
MEMORY_RULE = "memory"
BASE_SCORE = 0.8
"""Score of a remembered target chosen once among many; unanimous memories score 1.0."""


@dataclass(frozen=True)
class RememberedMapping:
    """One validated decision."""

    source_label: str
    target_system: str
    target_code: str
    equivalence: str = "equivalent"
    origin: str = ""


@dataclass(frozen=True)
class MappingMemory:
    """Validated decisions, looked up by normalised source label and target system.

    >>> from terminology.matching.normalise import default_normaliser
    >>> memory = MappingMemory((RememberedMapping("In Progress", "urn:status", "active", origin="map-a"),))
    >>> memory.frame(default_normaliser()).select("norm", "target_code").row(0)
    ('progress', 'active')
    """

    mappings: tuple[RememberedMapping, ...] = ()

    def __len__(self) -> int:
        return len(self.mappings)

    def __add__(self, other: MappingMemory) -> MappingMemory:
        return MappingMemory(self.mappings + other.mappings)

    def frame(self, normaliser: Normaliser) -> pl.DataFrame:
        """The memory as rows with the normalised source label (``norm``)."""
        return pl.DataFrame(
            {
                "norm": [normaliser.normalise(m.source_label) for m in self.mappings],
                "memory_label": [m.source_label for m in self.mappings],
                "target_system": [m.target_system for m in self.mappings],
                "target_code": [m.target_code for m in self.mappings],
                "memory_equivalence": [m.equivalence for m in self.mappings],
                "origin": [m.origin for m in self.mappings],
            },
            schema={
                "norm": pl.String,
                "memory_label": pl.String,
                "target_system": pl.String,
                "target_code": pl.String,
                "memory_equivalence": pl.String,
                "origin": pl.String,
            },
        )


def load_memory(path: Path) -> MappingMemory:
    """Read a memory CSV; a missing column or an empty required cell names file, line and field."""
    with path.open(encoding="utf-8-sig", newline="") as handle:
        reader = csv.DictReader(handle)
        missing = [name for name in REQUIRED if name not in (reader.fieldnames or [])]
        if missing:
            raise SourceFileError(path, f"missing column(s) {', '.join(missing)}", line=1)
        mappings: list[RememberedMapping] = []
        for row in reader:
            for name in REQUIRED:
                if not (row.get(name) or "").strip():
                    raise SourceFileError(path, "empty value", line=reader.line_num, field=name)
            mappings.append(
                RememberedMapping(
                    source_label=row["source_label"].strip(),
                    target_system=row["target_system"].strip(),
                    target_code=row["target_code"].strip(),
                    equivalence=(row.get("equivalence") or "").strip() or "equivalent",
                    origin=(row.get("origin") or "").strip() or path.name,
                )
            )
    return MappingMemory(tuple(mappings))


def memory_candidates(
    memory: MappingMemory,
    normaliser: Normaliser,
    target_system: str,
    source_labels: pl.DataFrame,
    target_displays: pl.DataFrame,
) -> pl.DataFrame:
    """Remembered pairs for the source concepts, in the engine's proposal columns.

    ``source_labels`` has ``code``, ``label`` and ``norm``; ``target_displays`` has
    ``target_code`` and ``target_label`` for the active target codes."""
    remembered = memory.frame(normaliser).filter(pl.col("target_system") == target_system)
    votes = remembered.group_by("norm", "target_code").agg(
        pl.len().alias("votes"),
        pl.col("memory_equivalence").mode().first().alias("equivalence"),
        pl.col("origin").unique(maintain_order=True).alias("origins"),
    )
    votes = votes.with_columns(pl.col("votes").sum().over("norm").alias("total"))
    sources = source_labels.select(source_code="code", source_label="label", norm="norm")
    return (
        sources.join(votes, on="norm")
        .join(target_displays, on="target_code")
        .sort("votes", descending=True)
        .unique(["source_code", "target_code"], keep="first")
        .select(
            "source_code",
            "target_code",
            "source_label",
            "target_label",
            (BASE_SCORE + (1 - BASE_SCORE) * pl.col("votes") / pl.col("total")).alias("score"),
            pl.lit(MEMORY_RULE).alias("rule"),
            "equivalence",
            pl.format(
                'validated before: "{}" → {} in {} of {} decisions ({})',
                "source_label",
                "target_code",
                "votes",
                "total",
                pl.col("origins").list.head(3).list.join(", "),
            ).alias("reason"),
        )
    )
