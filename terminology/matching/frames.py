"""What matching reads of two stored versions, read once before it starts: labels,
hierarchy links and the properties the rules ask about, as polars frames. Every step
after that (pool, ranking, rules, selection) is a function of these frames: none reads
the database, so a match is one read of each frame, and the same frames can be matched
again (training, retraining, benchmarks) without touching the store.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Protocol

import polars as pl

from terminology.models import CodeSystem

NO_VALUES = pl.DataFrame(schema={"code": pl.String, "value": pl.String})


class VersionReader(Protocol):
    """What matching needs from storage (:class:`terminology.storage.store.SqlStore` has it)."""

    def labels_frame(self, system: CodeSystem) -> pl.DataFrame: ...

    def parents_frame(self, system: CodeSystem) -> pl.DataFrame: ...

    def property_frame(self, system: CodeSystem, name: str) -> pl.DataFrame: ...


@dataclass(frozen=True)
class VersionFrames:
    """One stored version as matching sees it."""

    system: CodeSystem
    labels: pl.DataFrame
    """Every label: ``code``, ``label``, ``language``, ``use``, ``active``."""
    parents: pl.DataFrame
    """Hierarchy links: ``code``, ``parent``."""
    properties: dict[str, pl.DataFrame] = field(default_factory=dict)
    """Property values by property name: ``code``, ``value``."""

    def property(self, name: str) -> pl.DataFrame:
        """The values of a property read up front (none when the version lacks it)."""
        return self.properties.get(name, NO_VALUES)

    def displays(self) -> pl.DataFrame:
        """One display label per code: ``code``, ``label``."""
        return (
            self.labels.filter(pl.col("use") == "display")
            .unique("code", keep="first")
            .select("code", "label")
        )

    @classmethod
    def read(cls, store: VersionReader, system: CodeSystem, properties: Iterable[str] = ()) -> VersionFrames:
        return cls(
            system=system,
            labels=store.labels_frame(system),
            parents=store.parents_frame(system),
            properties={name: store.property_frame(system, name) for name in dict.fromkeys(properties)},
        )


@dataclass(frozen=True)
class MatchingFrames:
    """The two versions a match runs between."""

    source: VersionFrames
    target: VersionFrames


def read_frames(
    store: VersionReader,
    source: CodeSystem,
    target: CodeSystem,
    *,
    source_properties: Iterable[str] = (),
    target_properties: Iterable[str] = (),
) -> MatchingFrames:
    """Everything a match reads, in one pass over the store."""
    return MatchingFrames(
        source=VersionFrames.read(store, source, source_properties),
        target=VersionFrames.read(store, target, target_properties),
    )
