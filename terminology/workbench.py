"""The Python entry point for notebooks and scripts: one object, answers as polars DataFrames.

Analysts explore coverage and quality without learning the HTTP API: open a database, list
code systems, load concepts, candidates, decisions and published maps as DataFrames, run a
match, translate a column of codes through a published ConceptMap (one vectorised join, not
a loop), and diff two map versions.

>>> c = Concordance.open("sqlite://")          # an in-memory database, migrated
>>> c.code_systems().height
0
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any, Literal

import polars as pl

from terminology.backends import Backends
from terminology.exporters.conceptmap_formats import CSV_COLUMNS, mapping_rows
from terminology.importers import importer_class
from terminology.models import CodeSystem
from terminology.publication.diff import diff_maps
from terminology.publication.translate import Question
from terminology.records import StoredMap
from terminology.review.workflow import Role
from terminology.services.audit import blind_answers, full_history
from terminology.services.code_systems import hierarchy_roots, read_manifest
from terminology.services.concept_maps import (
    import_map_file,
    publish_project,
    release_impact,
    search_concept_maps,
    serve_bundled_maps,
)
from terminology.services.database import open_database
from terminology.services.decision_imports import import_decision_file
from terminology.services.decisions import RowDecision, decide_row
from terminology.services.importing import import_code_system
from terminology.services.matching import match_and_save
from terminology.services.projects import find_project, projects_of, set_review_mode, stored_candidates
from terminology.services.queue import every_row, find_row, progress
from terminology.services.retraining import retrain_now
from terminology.services.translation import MapCache, MapChoice, choose_maps, translator
from terminology.services.users import add_member, find_member
from terminology.settings import Settings, get_settings
from terminology.versions import pick_version

BUNDLED_MANIFEST = Path(__file__).resolve().parent.parent / "data" / "bundled.toml"
"""The code systems ``make demo`` loads (real public data, provenance in ``data/README.md``)."""
TRANSLATED = {
    "code": pl.String,
    "target_system": pl.String,
    "target_code": pl.String,
    "target_display": pl.String,
    "equivalence": pl.String,
}
NEGATIVE = ["unmatched", "disjoint"]
EQUIVALENCE_ORDER = [
    "equal",
    "equivalent",
    "wider",
    "subsumes",
    "narrower",
    "specializes",
    "relatedto",
    "inexact",
    "unmatched",
    "disjoint",
]
"""Which target a one-row-per-code translation keeps when a code has several: the closest."""


class Concordance:
    """A Concordance database, read and driven from Python."""

    def __init__(self, store: Backends) -> None:
        self.store = store
        self._maps = MapCache(store, recheck_seconds=0)  # a notebook sees what it just published

    @classmethod
    def open(cls, database_url: str | None = None) -> Concordance:
        """Open (and migrate) a database; without a URL, ``CONCORDANCE_DATABASE_URL`` or the
        SQLite default, as the command line and the server use."""
        settings = Settings(database_url=database_url) if database_url else get_settings()
        return cls(open_database(settings, upgrade=True))

    # ------------------------------------------------------------------ code systems

    def load(
        self, manifest: Path | str = BUNDLED_MANIFEST, *, only: Iterable[str] | None = None
    ) -> pl.DataFrame:
        """Import the code systems a TOML manifest lists (``only``: their ``name``s); a
        version already imported from the same file is kept, not duplicated."""
        for entry in read_manifest(Path(manifest), only=only):
            importer = importer_class(entry.format).with_options(entry.options)
            import_code_system(self.store, importer, entry.path, overrides=entry.metadata)
        return self.code_systems()

    def code_systems(self) -> pl.DataFrame:
        """Every stored version: url, version, name, title, concepts, languages, status."""
        rows = [
            {
                "url": s.url,
                "version": s.version,
                "name": s.name,
                "title": s.title,
                "concepts": s.concept_count,
                "languages": list(s.languages),
                "status": s.status,
            }
            for s in self.store.code_systems()
        ]
        schema: dict[str, Any] = {
            "url": pl.String,
            "version": pl.String,
            "name": pl.String,
            "title": pl.String,
            "concepts": pl.Int64,
            "languages": pl.List(pl.String),
            "status": pl.String,
        }
        return pl.DataFrame(rows, schema=schema)

    def system(self, reference: str, version: str | None = None) -> CodeSystem:
        """A stored version by ``url``, ``url|version`` or name; the latest when no version
        is given (:mod:`terminology.versions`, as for a url)."""
        url, _, pinned = reference.partition("|")
        version = version or pinned or None
        if self.store.find_code_system(url, version) is None:
            named = pick_version(
                [s for s in self.store.code_systems() if s.name == url],
                version,
                version_of=lambda s: s.version,
                is_active=lambda s: s.status == "active",
            )
            if named is not None:
                return named
        return self.store.code_system(url, version)

    def labels(self, reference: str, version: str | None = None) -> pl.DataFrame:
        """Every label of every concept (code, label, language, use, active), displays first."""
        return self.store.labels_frame(self.system(reference, version))

    def concepts(self, reference: str, version: str | None = None) -> pl.DataFrame:
        """One row per concept: code, display, active, parents (list) and depth (0 for a root).

        >>> import tempfile
        >>> c = Concordance.open(f"sqlite:///{tempfile.mkdtemp()}/doc.db")
        >>> _ = c.load(only=["SAMUNomenclature"])
        >>> c.concepts("urn:concordance:codesystem:samu-hub-nomenclature|1.9").columns
        ['code', 'display', 'active', 'parents', 'depth']
        """
        system = self.system(reference, version)
        parents = self.store.parents_frame(system)
        grouped = parents.group_by("code").agg(pl.col("parent").sort().alias("parents"))
        frame = (
            self.store.concept_frame(system)
            .join(grouped, on="code", how="left")
            .with_columns(pl.col("parents").fill_null(pl.lit([], dtype=pl.List(pl.String))))
        )
        depth = hierarchy_depth(parents, frame["code"])
        return (
            frame.join(depth, on="code", how="left")
            .select("code", "display", "active", "parents", "depth")
            .sort("code")
        )

    def roots(self, reference: str, version: str | None = None) -> pl.DataFrame:
        """The roots of a version's hierarchy: code, display, concepts (the root and all
        below it) and chapter (whether it is one; null when the version does not say), chapters
        first. A classification with roots that are not chapters has concepts cut from
        their chapter — which matching would read as unplaced.

        >>> import tempfile
        >>> c = Concordance.open(f"sqlite:///{tempfile.mkdtemp()}/doc.db")
        >>> _ = c.load(only=["CIM10FR"])
        >>> roots = c.roots("urn:concordance:codesystem:cim10-fr-gnuhealth")
        >>> roots.height, roots["chapter"].all(), roots["concepts"].sum()
        (22, True, 14715)
        """
        report = hierarchy_roots(self.store, self.system(reference, version))
        return pl.DataFrame(
            [(r.code, r.display, r.concepts, r.chapter) for r in report.roots],
            schema={"code": pl.String, "display": pl.String, "concepts": pl.Int64, "chapter": pl.Boolean},
            orient="row",
        )

    # ------------------------------------------------------------------ matching

    def match(
        self,
        source: str,
        target: str,
        *,
        rules: Sequence[Path | str] = (),
        top_k: int = 5,
        min_score: float = 0.0,
        project: str | None = None,
    ) -> pl.DataFrame:
        """Ranked candidates from ``source`` to ``target`` (with rule files); saved as a mapping
        project for review when ``project`` names one."""
        matched = match_and_save(
            self.store, self.system(source), self.system(target), rules=rules, top_k=top_k,
            min_score=min_score, project=project,
        )  # fmt: skip
        found = matched.candidates
        return candidates_frame([c.model_dump() for c in found])

    def candidates(self, project: str | int) -> pl.DataFrame:
        """The stored candidates of a mapping project."""
        return candidates_frame(stored_candidates(self.store, find_project(self.store, project)))

    def add_member(self, project: str | int, name: str, role: str) -> str:
        """Give ``name`` (created if new) a role in ``project``: viewer, author, reviewer,
        reconciler or admin. Decisions are imported by a member with the reviewer role.
        Returns the name as the project knows it."""
        found = find_project(self.store, project)
        return add_member(self.store, found, name, Role(role)).name

    def set_review(self, project: str | int, review: Literal["single", "double"]) -> str:
        """Single review, or blind double review (two authors answer apart, a reconciler
        settles their conflicts); returns the mode now in force."""
        return set_review_mode(self.store, find_project(self.store, project), review).review

    def decide(
        self,
        project: str | int,
        source_code: str,
        action: str,
        *,
        by: str,
        targets: Sequence[str] = (),
        comment: str | None = None,
        no_map: bool = False,
        at: datetime | None = None,
    ) -> str:
        """Decide one row as the member ``by``, under the same rules as the review page: their
        role in the project, four eyes (no one accepts a row they mapped), blind answers in
        double review, the row's version checked. ``action`` is one of the page's (``map``,
        ``no_map``, ``submit``, ``accept``, ``reject``, ``reconcile``...); ``at`` replays a
        recorded session's time, the clock's otherwise. Returns the row's status after."""
        found = find_project(self.store, project)
        actor = find_member(self.store, found, by)
        row = find_row(self.store, found, source_code)
        decision = RowDecision.model_validate(
            {"action": action, "targets": [{"code": code} for code in targets], "comment": comment,
             "no_map": no_map}
        )  # fmt: skip
        after = decide_row(
            self.store, found, actor, source_code, decision, expected_version=row.version,
            longest_comment=get_settings().max_comment_chars, now=at,
        )  # fmt: skip
        return after.status.value

    def import_decisions(
        self, project: str | int, path: Path | str, *, by: str, replace: bool = False
    ) -> int:
        """Record validated mappings held elsewhere (CSV, SSSOM or a Usagi export) as accepted
        decisions of ``project``, ``by`` (a member with the reviewer role) vouching for them,
        under the review rules; a file with a bad row imports nothing, decided rows only
        with ``replace`` by an admin."""
        found = find_project(self.store, project)
        return import_decision_file(self.store, found, Path(path), by=by, replace=replace)

    def retrain(self, project: str | int) -> pl.DataFrame:
        """Fit the project's model on its accepted decisions and re-rank its candidates
        (stored, and returned); decisions stay as they are. One refit per project runs at a
        time, here or on the server (an error says which job is running)."""
        _, found = retrain_now(self.store, find_project(self.store, project))
        return candidates_frame([c.model_dump() for c in found])

    # ------------------------------------------------------------------ curation

    def projects(self) -> pl.DataFrame:
        """Mapping projects with their row counts per status."""
        rows = []
        for project, _ in projects_of(self.store):
            counts, _ = progress(self.store, project)
            rows.append({"id": project.id, "name": project.name, "review": project.review, **counts})
        return pl.DataFrame(rows)

    def decisions(self, project: str | int) -> pl.DataFrame:
        """One row per source concept: status, chosen targets, no-map, flag, author, reviewer."""
        found = find_project(self.store, project)
        rows = every_row(self.store, found)
        records = [
            {
                "source_code": row.source_code,
                "source_label": row.source_label,
                "status": row.status.value,
                "target_codes": [t.code for t in row.targets],
                "equivalences": [t.equivalence for t in row.targets],
                "no_map": row.no_map,
                "flagged": row.flagged,
                "flag_reason": row.flag_reason,
                "author": row.author,
                "reviewer": row.reviewer,
                "assignee": row.assignee,
                "best_score": best,
                "updated_at": row.updated_at,
                "version": row.version,
            }
            for row, best in rows
        ]
        return pl.DataFrame(records, infer_schema_length=None)

    def events(self, project: str | int) -> pl.DataFrame:
        """The audit trail: who did what to which row, when (status before and after)."""
        found = find_project(self.store, project)
        records = [
            {
                "source_code": e.source_code,
                "at": e.at,
                "actor": e.actor,
                "action": e.action,
                "status_before": (e.before or {}).get("status"),
                "status_after": (e.after or {}).get("status"),
                "comment": e.comment,
            }
            for e in full_history(self.store, found)
        ]
        schema: dict[str, Any] = {
            "source_code": pl.String,
            "at": pl.Datetime("us", "UTC"),
            "actor": pl.String,
            "action": pl.String,
            "status_before": pl.String,
            "status_after": pl.String,
            "comment": pl.String,
        }
        return pl.DataFrame(records, schema=schema)

    def answers(self, project: str | int) -> pl.DataFrame:
        """Blind answers of double review: one row per (source code, author)."""
        found = find_project(self.store, project)
        records = [
            {
                "source_code": code,
                "author": answer.author,
                "answer": "no map" if answer.no_map else "|".join(sorted(t.code for t in answer.targets)),
                "answered_at": at,
            }
            for code, answer, at in blind_answers(self.store, found)
        ]
        schema: dict[str, Any] = {
            "source_code": pl.String,
            "author": pl.String,
            "answer": pl.String,
            "answered_at": pl.Datetime,
        }
        return pl.DataFrame(records, schema=schema)

    # ------------------------------------------------------------------ published maps

    def concept_maps(self) -> pl.DataFrame:
        """Every stored ConceptMap version: id, url, version, status, name, elements."""
        rows = [
            {
                "id": m.id,
                "url": m.url,
                "version": m.version,
                "status": m.status,
                "name": m.resource.get("name"),
                "elements": sum(len(g.get("element", [])) for g in m.resource.get("group", [])),
            }
            for m in search_concept_maps(self.store)
        ]
        return pl.DataFrame(rows)

    def publish(self, project: str | int, *, status: str = "active", version: str | None = None) -> int:
        """Publish a project's accepted decisions as a new ConceptMap version; returns its id."""
        found = find_project(self.store, project)
        return publish_project(self.store, found, status=status, version=version).stored_id

    def import_concept_map(
        self, path: Path | str, *, status: str | None = None, version: str | None = None
    ) -> int:
        """Serve an existing map (FHIR ConceptMap JSON, or SSSOM ``.tsv``); returns its id."""
        return import_map_file(self.store, Path(path), status=status, version=version)[0].stored_id

    def load_bundled_maps(self) -> pl.DataFrame:
        """The curated SAMU-Hub correspondence and the HL7 example maps ``make demo`` serves."""
        serve_bundled_maps(self.store)
        return self.concept_maps()

    def concept_map(self, url: str | int, version: str | None = None) -> pl.DataFrame:
        """A ConceptMap version as rows (source, target, equivalence, comment); the newest
        active version when none is given."""
        return map_rows(self._map(url, version).resource)

    def translate(
        self,
        codes: pl.Series | Sequence[str],
        *,
        system: str,
        url: str | int,
        version: str | None = None,
        reverse: bool = False,
        target_system: str | None = None,
        every_target: bool = False,
    ) -> pl.DataFrame:
        """Translate a column of codes of ``system`` through a published ConceptMap, with the
        semantics of FHIR ``$translate`` (the same function answers both): groups chosen by
        system and ``target_system``, ``unmapped`` modes (provided, fixed, other-map),
        ``reverse`` (target → source).

        Columns: code, target_system, target_code, target_display, equivalence, mapped. By
        default one row per input code, in order, keeping its closest match (``equivalent``
        before ``wider`` ...; nulls when there is none); ``every_target=True`` gives one row
        per match, as ``$translate`` lists them. Each distinct code is looked up once in the
        version's index, then joined back: a column of a million codes takes a second.
        """
        answer = translator(self._maps, [self._map(url, version)])
        column = codes.alias("code") if isinstance(codes, pl.Series) else pl.Series("code", list(codes))
        column = column.cast(pl.String)
        records = []
        for code in column.drop_nulls().unique().to_list():
            question = Question(((system, code),), target_system=target_system, reverse=reverse)
            for match in answer(question):
                records.append((code, match.system, match.code, match.display, match.equivalence))
        found = pl.DataFrame(records, schema=TRANSLATED, orient="row")
        rank = pl.col("equivalence").replace_strict(
            EQUIVALENCE_ORDER, list(range(len(EQUIVALENCE_ORDER))), default=len(EQUIVALENCE_ORDER)
        )
        found = (
            found.with_columns(rank=rank).sort("code", "rank", "target_code", nulls_last=True).drop("rank")
        )
        if not every_target:
            found = found.unique("code", keep="first", maintain_order=True)
        return (
            column.to_frame()
            .join(found, on="code", how="left", maintain_order="left")
            .with_columns(mapped=pl.col("equivalence").is_not_null() & ~pl.col("equivalence").is_in(NEGATIVE))
        )

    def diff(self, old: str | int, new: str | int) -> pl.DataFrame:
        """What changed between two ConceptMap versions (ids): added, removed, changed."""
        changes = diff_maps(self._map(old).resource, self._map(new).resource)
        records = [
            {
                "source_system": c.source_system,
                "source_code": c.source_code,
                "kind": c.kind,
                "before": [f"{code} ({eq})" for code, eq in c.before],
                "after": [f"{code} ({eq})" for code, eq in c.after],
            }
            for c in changes
        ]
        schema: dict[str, Any] = {
            "source_system": pl.String,
            "source_code": pl.String,
            "kind": pl.String,
            "before": pl.List(pl.String),
            "after": pl.List(pl.String),
        }
        return pl.DataFrame(records, schema=schema)

    def release_impact(self, url: str | int, target: str, version: str | None = None) -> pl.DataFrame:
        """Published mappings whose target is gone, inactive or relabelled in a new version
        of the target code system."""
        found = release_impact(self.store, self._map(url, version).resource, self.system(target))
        schema: dict[str, Any] = {"source_code": pl.String, "target_code": pl.String, "reason": pl.String}
        return pl.DataFrame([m.model_dump() for m in found], schema=schema)

    def _map(self, url: str | int, version: str | None = None) -> StoredMap:
        """A version by id, or by canonical url: the one named, else the latest active one
        (the rule ``$translate`` follows)."""
        choice = MapChoice(map_id=url) if isinstance(url, int) else MapChoice(url=url, version=version)
        return choose_maps(self._maps, choice)[0]


def candidates_frame(records: Sequence[dict[str, Any]]) -> pl.DataFrame:
    """Candidates as a DataFrame with a fixed schema (empty or not)."""
    schema: dict[str, Any] = {
        "source_code": pl.String,
        "source_label": pl.String,
        "target_code": pl.String,
        "target_label": pl.String,
        "rank": pl.Int64,
        "score": pl.Float64,
        "equivalence": pl.String,
        "method": pl.String,
        "reason": pl.String,
    }
    return pl.DataFrame([{k: r.get(k) for k in schema} for r in records], schema=schema)


def map_rows(resource: dict[str, Any]) -> pl.DataFrame:
    """A ConceptMap resource flattened to one row per element target."""
    return pl.DataFrame(list(mapping_rows(resource)), schema={name: pl.String for name in CSV_COLUMNS})


def hierarchy_depth(parents: pl.DataFrame, codes: pl.Series) -> pl.DataFrame:
    """Each code's depth: 0 without a parent, else one more than its shallowest parent.

    >>> links = pl.DataFrame({"code": ["b", "c"], "parent": ["a", "b"]})
    >>> hierarchy_depth(links, pl.Series(["a", "b", "c"])).sort("code")["depth"].to_list()
    [0, 1, 2]
    """
    depth = pl.DataFrame({"code": codes.unique()}).join(
        parents.select("code").unique(), on="code", how="anti"
    )
    known = depth.with_columns(depth=pl.lit(0, pl.Int64))
    for _ in range(64):  # deeper than any real hierarchy; a cycle stops here
        step = (
            parents.join(known, left_on="parent", right_on="code")
            .group_by("code")
            .agg(pl.col("depth").min() + 1)
        )
        grown = pl.concat([known, step]).group_by("code").agg(pl.col("depth").min())
        if grown.height == known.height:
            break
        known = grown
    return known
