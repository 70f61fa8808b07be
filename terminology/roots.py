"""The roots of a code system's hierarchy, and the concepts an import cut from theirs.

A classification is read top-down: chapter, block, category. A concept whose parent the
file never defines (a block of a newer edition missing from an extract) is either
refused at import or, with ``unknown_parents = "drop"``, kept without that link — and
then it becomes a root of its own, taking everything below it out of its chapter.
Matching reads chapters (chapter correspondences, depth, ancestors), so such damage is
reported loudly at import and when the roots are listed, never silently.

Pure functions of frames: ``codes`` (one ``code`` per concept), ``links`` (``code``,
``parent``), and optionally which codes are chapters (a ``kind`` property equal to
``chapter``, as ClaML and the bundled CSV files give it).
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from terminology.matching.hierarchy import ancestor_closure

SHOWN = 10
"""Missing parents and orphan roots named in a warning, at most."""


@dataclass(frozen=True, slots=True)
class Root:
    """A concept without a parent, with how much of the hierarchy hangs from it."""

    code: str
    display: str | None
    concepts: int
    """The root and every concept below it."""
    chapter: bool | None
    """Whether it is a chapter (None when the code system does not say what a chapter is)."""


@dataclass(frozen=True, slots=True)
class HierarchyCheck:
    """What an import did to the hierarchy that a curator must know about."""

    concepts_missing_parent: int = 0
    """Concepts naming a parent the file does not define (the link was dropped)."""
    missing_parents: tuple[str, ...] = ()
    """Those undefined parent codes, sorted."""
    cut_from_root: int = 0
    """Concepts left without any path to a root they should reach: the concepts that lost
    their only parent, and everything below them."""
    orphan_roots: tuple[str, ...] = ()
    """Roots that are not chapters, when the code system says which concepts are chapters."""
    under_orphan_roots: int = 0
    """Concepts at or below those orphan roots."""

    @property
    def damaged(self) -> bool:
        return bool(self.concepts_missing_parent or self.orphan_roots)

    def warnings(self) -> list[str]:
        """Sentences a terminologist reads in the import summary."""
        found: list[str] = []
        if self.concepts_missing_parent:
            found.append(
                f"{self.concepts_missing_parent:,} concepts name a parent the file does not define "
                f"({len(self.missing_parents):,} codes: {_first(self.missing_parents)}); "
                f"those links were dropped (unknown_parents=drop), leaving {self.cut_from_root:,} "
                "concepts cut from their root"
            )
        if self.orphan_roots:
            found.append(
                f"{len(self.orphan_roots):,} roots are not chapters ({_first(self.orphan_roots)}): "
                f"{self.under_orphan_roots:,} concepts do not reach a chapter"
            )
        return found


def _first(codes: tuple[str, ...]) -> str:
    shown = ", ".join(codes[:SHOWN])
    return shown + (f" and {len(codes) - SHOWN:,} more" if len(codes) > SHOWN else "")


def _links(links: pl.DataFrame) -> pl.DataFrame:
    return links.select(pl.col("code").cast(pl.String), pl.col("parent").cast(pl.String)).unique()


def root_codes(codes: pl.DataFrame, links: pl.DataFrame) -> pl.DataFrame:
    """The codes of ``codes`` that have no parent among ``links`` (``code``).

    >>> codes = pl.DataFrame({"code": ["I", "A00-A09", "A00", "J09-J18"]})
    >>> links = pl.DataFrame({"code": ["A00-A09", "A00"], "parent": ["I", "A00-A09"]})
    >>> sorted(root_codes(codes, links).get_column("code"))
    ['I', 'J09-J18']
    """
    return codes.select("code").unique().join(_links(links), on="code", how="anti")


def concepts_under(codes: pl.DataFrame, links: pl.DataFrame, tops: pl.DataFrame) -> pl.DataFrame:
    """For each code of ``tops``: how many concepts are at or below it (``code``, ``concepts``).

    >>> links = pl.DataFrame({"code": ["A00", "A00.0", "A00.9"], "parent": ["I", "A00", "A00"]})
    >>> codes = pl.DataFrame({"code": ["I", "A00", "A00.0", "A00.9"]})
    >>> concepts_under(codes, links, pl.DataFrame({"code": ["I", "A00"]})).sort("code").rows()
    [('A00', 3), ('I', 4)]
    """
    tops = tops.select("code").unique()
    if tops.is_empty():
        return pl.DataFrame(schema={"code": pl.String, "concepts": pl.UInt32})
    below = (
        ancestor_closure(_links(links))
        .join(tops.rename({"code": "ancestor"}), on="ancestor", how="semi")
        .group_by(pl.col("ancestor").alias("code"))
        .len()
    )
    return (
        tops.join(below, on="code", how="left")
        .select("code", (pl.col("len").fill_null(0) + 1).cast(pl.UInt32).alias("concepts"))
        .join(codes.select("code").unique(), on="code", how="semi")
    )


def reached_from(links: pl.DataFrame, tops: pl.DataFrame) -> int:
    """How many distinct concepts are at or below any code of ``tops``."""
    tops = tops.select("code").unique()
    if tops.is_empty():
        return 0
    below = (
        ancestor_closure(_links(links))
        .join(tops.rename({"code": "ancestor"}), on="ancestor", how="semi")
        .select("code")
    )
    return pl.concat([tops, below]).unique().height


def check_hierarchy(
    codes: pl.DataFrame,
    kept: pl.DataFrame,
    dropped: pl.DataFrame,
    chapters: pl.DataFrame | None = None,
) -> HierarchyCheck:
    """What the hierarchy looks like after an import kept the links ``kept`` and dropped
    ``dropped`` (links to parents the file never defines); ``chapters`` (``code``), when the
    file says which concepts are chapters, makes every other root an orphan.

    >>> codes = pl.DataFrame({"code": ["I", "A00-A09", "A00", "A92", "A92.0"]})
    >>> kept = pl.DataFrame({"code": ["A00-A09", "A00", "A92.0"], "parent": ["I", "A00-A09", "A92"]})
    >>> dropped = pl.DataFrame({"code": ["A92"], "parent": ["A92-A99"]})
    >>> found = check_hierarchy(codes, kept, dropped, pl.DataFrame({"code": ["I"]}))
    >>> found.concepts_missing_parent, found.missing_parents, found.cut_from_root, found.orphan_roots
    (1, ('A92-A99',), 2, ('A92',))
    """
    kept = _links(kept)
    dropped = _links(dropped)
    roots = root_codes(codes, kept)
    cut_tops = dropped.select("code").unique().join(roots, on="code", how="semi")
    orphans = roots.join(chapters.select("code"), on="code", how="anti") if chapters is not None else None
    return HierarchyCheck(
        concepts_missing_parent=dropped.get_column("code").n_unique(),
        missing_parents=tuple(sorted(dropped.get_column("parent").unique().to_list())),
        cut_from_root=reached_from(kept, cut_tops),
        orphan_roots=tuple(sorted(orphans.get_column("code").to_list())) if orphans is not None else (),
        under_orphan_roots=reached_from(kept, orphans) if orphans is not None else 0,
    )


def chapters_of(kinds: pl.DataFrame) -> pl.DataFrame | None:
    """The codes whose ``kind`` is ``chapter`` (``code``), or None when no concept says it
    is one (the code system does not tell chapters apart: every root is then as good).

    >>> chapters_of(pl.DataFrame({"code": ["I", "A00"], "kind": ["chapter", "category"]})).rows()
    [('I',)]
    >>> chapters_of(pl.DataFrame({"code": ["A"], "kind": ["concept"]})) is None
    True
    """
    chapters = kinds.filter(pl.col("kind").cast(pl.String).str.to_lowercase() == "chapter").select("code")
    return chapters if chapters.height else None


def list_roots(
    codes: pl.DataFrame, links: pl.DataFrame, displays: pl.DataFrame, chapters: pl.DataFrame | None
) -> list[Root]:
    """Every root with its display and size, chapters first, then the largest.

    ``displays`` has ``code`` and ``display``."""
    roots = root_codes(codes, links)
    sized = concepts_under(codes, links, roots).join(
        displays.select("code", "display").unique("code"), on="code", how="left"
    )
    chapter_codes = set(chapters.get_column("code").to_list()) if chapters is not None else None
    found = [
        Root(
            code=code,
            display=display,
            concepts=int(concepts),
            chapter=None if chapter_codes is None else code in chapter_codes,
        )
        for code, concepts, display in sized.select("code", "concepts", "display").iter_rows()
    ]
    return sorted(found, key=lambda root: (root.chapter is False, -root.concepts, root.code))
