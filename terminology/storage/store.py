"""The code-system store: one interface, backed by SQL (SQLite or PostgreSQL)."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

import polars as pl
import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import IntegrityError, OperationalError, ProgrammingError

from terminology.batches import json_array
from terminology.errors import CodeSystemNotFoundError, DatabaseNotReadyError, VersionConflictError
from terminology.models import (
    CodeChanges,
    CodeSystem,
    CodeSystemMetadata,
    Concept,
    Designation,
    DesignationUse,
)
from terminology.storage.bulk import PreparedRows, bulk_writer_for
from terminology.storage.tables import (
    CONCEPT_COLUMNS,
    DESIGNATION_COLUMNS,
    EDGE_COLUMNS,
    VERSIONED_TABLES,
    CodeSystemRow,
    ConceptRow,
    DesignationRow,
    HierarchyEdgeRow,
)
from terminology.text import FOLDED, fold
from terminology.versions import pick_version

systems = CodeSystemRow.__table__  # type: ignore[attr-defined]
concepts = ConceptRow.__table__  # type: ignore[attr-defined]
designations = DesignationRow.__table__  # type: ignore[attr-defined]
edges = HierarchyEdgeRow.__table__  # type: ignore[attr-defined]

EXAMPLES_PER_CHANGE = 10
IMPORT_CACHE_KIB = 64 * 1024
"""SQLite page cache while importing: the default 2 MB thrashes on index inserts."""


IN_CHUNK = 5_000
"""Values per ``IN (...)`` list: SQLite accepts 32,766 bound values, PostgreSQL 65,535."""


def in_chunks(values: Iterable[str], size: int = IN_CHUNK) -> Iterator[list[str]]:
    """``values`` sorted, without repeats, in lists short enough for one ``IN``.

    >>> [len(chunk) for chunk in in_chunks(map(str, range(12_000)))]
    [5000, 5000, 2000]
    """
    wanted = sorted(set(values))
    for start in range(0, len(wanted), size):
        yield wanted[start : start + size]


def like_literal(text: str) -> str:
    r"""``text`` for a LIKE pattern (escape character ``\``) where ``%`` and ``_`` match
    themselves: a search for ``_`` must not match every row.

    >>> like_literal("50%_a")
    '50\\%\\_a'
    """
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _to_code_system(row: Any) -> CodeSystem:
    languages = row.languages
    if isinstance(languages, str):
        languages = json.loads(languages)
    return CodeSystem(
        id=row.id,
        url=row.url,
        version=row.version,
        name=row.name,
        title=row.title,
        publisher=row.publisher,
        status=row.status,
        languages=tuple(languages or ()),
        source_format=row.source_format,
        source_name=row.source_name,
        checksum=row.checksum,
        imported_at=row.imported_at if row.imported_at.tzinfo else row.imported_at.replace(tzinfo=UTC),
        concept_count=row.concept_count,
    )


def _json_value(value: Any) -> Any:
    """JSON columns come back decoded on PostgreSQL and as text where we bulk-wrote them raw."""
    return json.loads(value) if isinstance(value, str) else value


class ImportTransaction:
    """Writes one code-system version in a single transaction.

    Created by :meth:`SqlStore.begin_import`; batches are appended and nothing
    is visible to readers until the ``with`` block of ``begin_import`` ends.
    """

    def __init__(self, connection: Connection, system_id: int, language: str | None) -> None:
        self._connection = connection
        self._writer = bulk_writer_for(connection)
        self.system_id = system_id
        self.language = language
        self.counts: dict[str, int] = {}
        self._next_ordinal = 0
        self._partitioned = connection.dialect.name == "postgresql"
        self._keyed: set[str] = set()
        self.tables = {table: self._open_table(table) for table in VERSIONED_TABLES}

    def _open_table(self, table: str) -> str:
        """Where this version's rows of ``table`` go: on PostgreSQL a fresh table without
        indexes, attached as the version's partition by :meth:`finish`. Its CHECK
        constraint costs a comparison per row as rows arrive, instead of a scan later."""
        if not self._partitioned:
            return table
        own = f"{table}_v{self.system_id}"
        self._connection.exec_driver_sql(
            f"CREATE TABLE {own} (LIKE {table} INCLUDING DEFAULTS,"
            f" CONSTRAINT {own}_version CHECK (system_id = {self.system_id}))"
        )
        return own

    def build_keys(self, *tables: str) -> None:
        """Build the keys of this version's partition of ``tables`` in one sort each, once
        their rows are all in (PostgreSQL; SQLite maintains its keys as rows arrive)."""
        if not self._partitioned:
            return
        for table in tables:
            if table in self._keyed:
                continue
            own = self.tables[table]
            for key in VERSIONED_TABLES[table]:
                kind, _, columns = key.partition(" (")
                if kind == "INDEX":
                    self._connection.exec_driver_sql(f"CREATE INDEX ON {own} ({columns}")
                else:
                    self._connection.exec_driver_sql(f"ALTER TABLE {own} ADD {key}")
            self._keyed.add(table)

    def _attach_tables(self) -> None:
        """Attach each partition; the CHECK constraint it was created with spares
        PostgreSQL a scan to prove the rows belong to the partition."""
        self.build_keys(*VERSIONED_TABLES)
        for table in VERSIONED_TABLES:
            own = self.tables[table]
            self._connection.exec_driver_sql(
                f"ALTER TABLE {table} ATTACH PARTITION {own} FOR VALUES IN ({self.system_id})"
            )

    def prepare_batch(self, batch: pl.DataFrame) -> list[PreparedRows]:
        """Concept and designation rows of a validated batch (see :mod:`terminology.batches`),
        ready for :meth:`send`; touches no connection, so it may run beside a write."""
        system = pl.lit(self.system_id, dtype=pl.Int64).alias("system_id")
        concept_rows = batch.select(
            system,
            "code",
            "display",
            "definition",
            "active",
            "properties",
            json_array(pl.col("parents")).alias("parents"),
        )
        designation_rows = (
            batch.select("code", "designations")
            .explode("designations")
            .drop_nulls("designations")
            .unnest("designations")
            .select(
                system,
                "code",
                pl.col("language").fill_null(pl.lit(self.language, dtype=pl.String)),
                "use",
                "value",
            )
        )
        start, self._next_ordinal = self._next_ordinal, self._next_ordinal + designation_rows.height
        designation_rows = designation_rows.with_columns(
            pl.int_range(start, self._next_ordinal, dtype=pl.Int64).alias("ordinal")
        )
        return [
            self._writer.prepare(self.tables["concept"], CONCEPT_COLUMNS, concept_rows),
            self._writer.prepare(self.tables["designation"], DESIGNATION_COLUMNS, designation_rows),
        ]

    def prepare_hierarchy(self, links: pl.DataFrame) -> list[PreparedRows]:
        """All parent links of the version (distinct: codes are, and so is each concept's
        list of parents), in key order: SQLite then maintains its key by appending, and
        PostgreSQL's key build finds its input already sorted (twice as fast as unsorted,
        measured); polars sorts on every core."""
        edge_rows = links.select(
            pl.lit(self.system_id, dtype=pl.Int64).alias("system_id"),
            pl.col("parent").alias("parent_code"),
            pl.col("child").alias("child_code"),
        ).sort("parent_code", "child_code")
        return [self._writer.prepare(self.tables["hierarchy_edge"], EDGE_COLUMNS, edge_rows)]

    def send(self, prepared: list[PreparedRows]) -> None:
        """Write prepared rows on this transaction's connection, counting them."""
        for rows in prepared:
            self._writer.send(rows)
            self.counts[rows.table] = self.counts.get(rows.table, 0) + rows.count

    @property
    def concept_count(self) -> int:
        return self.counts.get(self.tables["concept"], 0)

    @property
    def designation_count(self) -> int:
        return self.counts.get(self.tables["designation"], 0)

    @property
    def edge_count(self) -> int:
        return self.counts.get(self.tables["hierarchy_edge"], 0)

    def finish(self, languages: Iterable[str], *, primary: str | None = None) -> CodeSystem:
        """Index and attach the version's rows, record totals; the caller's block then commits.
        ``primary``, the language of the displays, comes first in ``languages``."""
        if self._partitioned:
            self._attach_tables()
        self._connection.execute(
            systems.update()
            .where(systems.c.id == self.system_id)
            .values(concept_count=self.concept_count, languages=primary_first(languages, primary))
        )
        row = self._connection.execute(sa.select(systems).where(systems.c.id == self.system_id)).one()
        return _to_code_system(row)


def primary_first(languages: Iterable[str], primary: str | None) -> list[str]:
    """The languages of a version, its displays' language first (then alphabetical).

    >>> primary_first(["en", "fr", "de"], "fr")
    ['fr', 'de', 'en']
    """
    others = sorted(set(languages) - {primary})
    return [primary, *others] if primary else others


SINGLE = {char: plain for char, plain in FOLDED.items() if len(plain) == 1}
MULTIPLE = {char: plain for char, plain in FOLDED.items() if len(plain) != 1}


def folded(column: sa.ColumnElement[Any], dialect: str) -> sa.ColumnElement[Any]:
    """``column`` folded in SQL exactly as :func:`terminology.text.fold` folds it in Python
    (Latin letters): SQLite calls the Python function registered on each connection;
    PostgreSQL gets the same table (:data:`terminology.text.FOLDED`) as ``replace`` for the
    letters that become two (``Œ`` → ``oe``, ``ß`` → ``ss``), then one ``translate``, then
    ``lower`` — in that order, so the result does not depend on the database's locale."""
    if dialect == "sqlite":
        return sa.func.concordance_fold(column)
    text: sa.ColumnElement[Any] = column
    for char, plain in MULTIPLE.items():
        text = sa.func.replace(text, char, plain)
    return sa.func.lower(sa.func.translate(text, "".join(SINGLE), "".join(SINGLE.values())))


class SqlStore:
    """The store on any SQLAlchemy engine (SQLite or PostgreSQL)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    @contextmanager
    def _reading(self) -> Iterator[Connection]:
        try:
            with self.engine.connect() as connection:
                yield connection
        except (OperationalError, ProgrammingError) as error:
            if "code_system" in str(error) or "no such table" in str(error):
                raise DatabaseNotReadyError(
                    "the database has no Concordance tables; run 'concordance db upgrade'"
                ) from error
            raise

    def code_systems(self) -> list[CodeSystem]:
        """Every stored version, by URL then newest import first."""
        query = sa.select(systems).order_by(systems.c.url, systems.c.imported_at.desc(), systems.c.id.desc())
        with self._reading() as connection:
            return [_to_code_system(row) for row in connection.execute(query)]

    def find_code_system(self, url: str, version: str | None = None) -> CodeSystem | None:
        """A version of a code system; the latest one (:mod:`terminology.versions`) when no
        version is given."""
        query = sa.select(systems).where(systems.c.url == url)
        if version is not None:
            query = query.where(systems.c.version == version)
        query = query.order_by(systems.c.imported_at.desc(), systems.c.id.desc())
        with self._reading() as connection:
            found = [_to_code_system(row) for row in connection.execute(query)]
        return pick_version(
            found,
            version,
            version_of=lambda system: system.version,
            is_active=lambda system: system.status == "active",
        )

    def code_system(self, url: str, version: str | None = None) -> CodeSystem:
        """Like :meth:`find_code_system`, but absence is an error naming what was asked."""
        found = self.find_code_system(url, version)
        if found is None:
            asked = f"{url}|{version}" if version else url
            raise CodeSystemNotFoundError(f"no code system {asked!r} is stored")
        return found

    def code_system_by_id(self, system_id: int) -> CodeSystem:
        """The stored version with this database id (what projects and maps refer to)."""
        with self._reading() as connection:
            row = connection.execute(sa.select(systems).where(systems.c.id == system_id)).first()
        if row is None:
            raise CodeSystemNotFoundError(f"no code system with id {system_id} is stored")
        return _to_code_system(row)

    def previous_version(self, system: CodeSystem) -> CodeSystem | None:
        """The version of the same URL imported just before this one."""
        query = (
            sa.select(systems)
            .where(systems.c.url == system.url, systems.c.id != system.id)
            .where(
                sa.or_(
                    systems.c.imported_at < system.imported_at,
                    sa.and_(systems.c.imported_at == system.imported_at, systems.c.id < system.id),
                )
            )
            .order_by(systems.c.imported_at.desc(), systems.c.id.desc())
            .limit(1)
        )
        with self._reading() as connection:
            row = connection.execute(query).first()
        return _to_code_system(row) if row is not None else None

    def concepts(
        self, system: CodeSystem, *, search: str | None = None, limit: int = 50, offset: int = 0
    ) -> list[Concept]:
        """Concepts in code order; ``search`` matches code, display or any designation,
        ignoring case and accents."""
        query = sa.select(concepts).where(concepts.c.system_id == system.id)
        if search:
            pattern = f"%{like_literal(fold(search))}%"
            dialect = self.engine.dialect.name
            in_designations = (
                sa.select(designations.c.code)
                .where(designations.c.system_id == system.id)
                .where(folded(designations.c.value, dialect).like(pattern, escape="\\"))
            )
            query = query.where(
                sa.or_(
                    folded(concepts.c.display, dialect).like(pattern, escape="\\"),
                    sa.func.lower(concepts.c.code) == search.lower(),
                    concepts.c.code.in_(in_designations),
                )
            )
        query = query.order_by(concepts.c.code).limit(limit).offset(offset)
        with self._reading() as connection:
            rows = list(connection.execute(query))
            return self._with_labels_and_parents(connection, system.id, rows)

    def labels_frame(self, system: CodeSystem) -> pl.DataFrame:
        """Every label of every concept of a version, one row each (``code``, ``label``,
        ``language``, ``use``, ``active``), the display first: what matching compares."""
        displays = sa.select(
            concepts.c.code,
            concepts.c.display.label("label"),
            sa.literal(None, sa.String).label("language"),
            sa.literal("display").label("use"),
            concepts.c.active,
        ).where(concepts.c.system_id == system.id, concepts.c.display.is_not(None))
        others = (
            sa.select(
                designations.c.code,
                designations.c.value.label("label"),
                designations.c.language,
                designations.c.use,
                concepts.c.active,
            )
            .join(
                concepts,
                sa.and_(
                    concepts.c.system_id == designations.c.system_id, concepts.c.code == designations.c.code
                ),
            )
            .where(designations.c.system_id == system.id)
        )
        with self._reading() as connection:  # in a fixed order: the ranker's training depends on it
            rows = [
                *connection.execute(displays.order_by(concepts.c.code)),
                *connection.execute(others.order_by(designations.c.ordinal)),
            ]
        schema = {
            "code": pl.String,
            "label": pl.String,
            "language": pl.String,
            "use": pl.String,
            "active": pl.Boolean,
        }
        frame = pl.DataFrame([tuple(row) for row in rows], schema=schema, orient="row")
        if system.languages:  # a display is in the code system's own language, listed first
            frame = frame.with_columns(pl.col("language").fill_null(system.languages[0]))
        return frame

    def property_frame(self, system: CodeSystem, name: str) -> pl.DataFrame:
        """One property of every concept that has it (``code``, ``value``), as text."""
        query = (
            sa.select(concepts.c.code, concepts.c.properties)
            .where(concepts.c.system_id == system.id, concepts.c.properties.is_not(None))
            .order_by(concepts.c.code)
        )
        with self._reading() as connection:
            rows = connection.execute(query).all()
        values = [(code, _json_value(properties).get(name)) for code, properties in rows]
        return pl.DataFrame(
            [(code, str(value)) for code, value in values if value not in (None, "")],
            schema={"code": pl.String, "value": pl.String},
            orient="row",
        )

    def concept_frame(self, system: CodeSystem) -> pl.DataFrame:
        """Every concept of a version (``code``, ``display``, ``active``), labelled or not."""
        query = (
            sa.select(concepts.c.code, concepts.c.display, concepts.c.active)
            .where(concepts.c.system_id == system.id)
            .order_by(concepts.c.code)
        )
        with self._reading() as connection:
            rows = connection.execute(query).all()
        schema = {"code": pl.String, "display": pl.String, "active": pl.Boolean}
        return pl.DataFrame([tuple(row) for row in rows], schema=schema, orient="row")

    def parents_frame(self, system: CodeSystem) -> pl.DataFrame:
        """Every parent link of a version (``code``, ``parent``), in a fixed order (whatever
        plan the database picks): what matching and the ranker's training read."""
        query = (
            sa.select(edges.c.child_code, edges.c.parent_code)
            .where(edges.c.system_id == system.id)
            .order_by(edges.c.parent_code, edges.c.child_code)
        )
        with self._reading() as connection:
            rows = connection.execute(query).all()
        return pl.DataFrame(
            [tuple(row) for row in rows], schema={"code": pl.String, "parent": pl.String}, orient="row"
        )

    def children(self, system: CodeSystem, code: str) -> list[str]:
        """Codes whose parent is ``code``."""
        query = (
            sa.select(edges.c.child_code)
            .where(edges.c.system_id == system.id, edges.c.parent_code == code)
            .order_by(edges.c.child_code)
        )
        with self._reading() as connection:
            return list(connection.execute(query).scalars())

    def displays(self, system: CodeSystem, codes: Iterable[str]) -> dict[str, str | None]:
        """The display of each of ``codes`` that ``system`` has (one query)."""
        found: dict[str, str | None] = {}
        with self._reading() as connection:
            for wanted in in_chunks(codes):
                query = sa.select(concepts.c.code, concepts.c.display).where(
                    concepts.c.system_id == system.id, concepts.c.code.in_(wanted)
                )
                found.update({code: display for code, display in connection.execute(query)})
        return found

    def known_codes(self, system: CodeSystem, codes: Iterable[str]) -> set[str]:
        """Those of ``codes`` that are codes of ``system``."""
        found: set[str] = set()
        with self._reading() as connection:
            for wanted in in_chunks(codes):
                query = sa.select(concepts.c.code).where(
                    concepts.c.system_id == system.id, concepts.c.code.in_(wanted)
                )
                found.update(connection.execute(query).scalars())
        return found

    def concept(self, system: CodeSystem, code: str) -> Concept | None:
        """One concept with its designations and parents."""
        return self.concepts_by_code(system, [code]).get(code)

    def concepts_by_code(self, system: CodeSystem, codes: Iterable[str]) -> dict[str, Concept]:
        """Those of ``codes`` that ``system`` has, with designations and parents (two queries
        per few thousand codes, whatever their number)."""
        found: dict[str, Concept] = {}
        with self._reading() as connection:
            for wanted in in_chunks(codes):
                query = sa.select(concepts).where(
                    concepts.c.system_id == system.id, concepts.c.code.in_(wanted)
                )
                rows = list(connection.execute(query))
                found.update(
                    (concept.code, concept)
                    for concept in self._with_labels_and_parents(connection, system.id, rows)
                )
        return found

    def _with_labels_and_parents(
        self, connection: Connection, system_id: int, rows: list[Any]
    ) -> list[Concept]:
        codes = [row.code for row in rows]
        if not codes:
            return []
        labels: dict[str, list[Designation]] = {}
        for d in connection.execute(
            sa.select(designations)
            .where(designations.c.system_id == system_id, designations.c.code.in_(codes))
            .order_by(designations.c.ordinal)
        ):
            labels.setdefault(d.code, []).append(Designation(d.language, DesignationUse(d.use), d.value))
        return [
            Concept(
                code=row.code,
                display=row.display,
                definition=row.definition,
                active=bool(row.active),
                properties=_json_value(row.properties) or {},
                designations=tuple(labels.get(row.code, ())),
                parents=tuple(_json_value(row.parents) or ()),
            )
            for row in rows
        ]

    def refresh_statistics(self) -> None:
        """Let SQLite's planner know the tables' sizes after a large write. Without them it
        reads a concept's labels by scanning its whole system (the primary key) instead of
        the code index: 8 ms instead of 0.1 ms per look-up on CIM-11. PostgreSQL's
        autovacuum keeps its own statistics."""
        if self.engine.dialect.name == "sqlite":
            with self.engine.begin() as connection:
                connection.exec_driver_sql("ANALYZE")

    def changes_between(self, old: CodeSystem, new: CodeSystem) -> CodeChanges:
        """Codes added, retired (gone or made inactive) and relabelled from ``old`` to ``new``."""
        with self._reading() as connection:
            return changes_between(connection, old.id, new.id)

    @contextmanager
    def begin_import(
        self, metadata: CodeSystemMetadata, *, source_format: str, source_name: str, checksum: str
    ) -> Iterator[ImportTransaction]:
        """Open the transaction that writes one new version; it commits only if the block succeeds."""
        if not metadata.url or not metadata.version:
            raise ValueError("an imported code system needs a url and a version")
        try:
            with self.engine.begin() as connection:
                if connection.dialect.name == "sqlite":
                    connection.exec_driver_sql(f"PRAGMA cache_size=-{IMPORT_CACHE_KIB}")
                system_id = connection.execute(
                    systems.insert()
                    .values(
                        url=metadata.url,
                        version=metadata.version,
                        name=metadata.name,
                        title=metadata.title,
                        publisher=metadata.publisher,
                        status=metadata.status,
                        languages=[],
                        source_format=source_format,
                        source_name=source_name,
                        checksum=checksum,
                        imported_at=datetime.now(UTC),
                        concept_count=0,
                    )
                    .returning(systems.c.id)
                ).scalar_one()
                yield ImportTransaction(connection, system_id, metadata.language)
        except IntegrityError as error:
            if ("url" in str(error) and "version" in str(error)) or "uq_code_system" in str(error):
                raise VersionConflictError(
                    f"{metadata.url}|{metadata.version} was imported meanwhile by someone else"
                ) from error
            raise
        except (OperationalError, ProgrammingError) as error:
            if "code_system" in str(error):
                raise DatabaseNotReadyError(
                    "the database has no Concordance tables; run 'concordance db upgrade'"
                ) from error
            raise


def _codes(connection: Connection, query: sa.Select[Any]) -> tuple[int, tuple[str, ...]]:
    count = connection.execute(sa.select(sa.func.count()).select_from(query.subquery())).scalar_one()
    examples = tuple(connection.execute(query.order_by(sa.text("1")).limit(EXAMPLES_PER_CHANGE)).scalars())
    return count, examples


def changes_between(connection: Connection, old_id: int, new_id: int) -> CodeChanges:
    """Compare two stored versions in SQL, so large releases never load into memory."""
    old = concepts.alias("old")
    new = concepts.alias("new")
    added = (
        sa.select(new.c.code)
        .where(new.c.system_id == new_id)
        .where(~sa.exists().where(old.c.system_id == old_id, old.c.code == new.c.code))
    )
    gone = (
        sa.select(old.c.code)
        .where(old.c.system_id == old_id, old.c.active.is_(True))
        .where(
            ~sa.exists().where(new.c.system_id == new_id, new.c.code == old.c.code, new.c.active.is_(True))
        )
    )
    relabelled = (
        sa.select(new.c.code)
        .join(old, sa.and_(old.c.code == new.c.code, old.c.system_id == old_id))
        .where(new.c.system_id == new_id)
        .where(sa.func.coalesce(old.c.display, "") != sa.func.coalesce(new.c.display, ""))
    )
    moved = (
        sa.select(new.c.code)
        .join(old, sa.and_(old.c.code == new.c.code, old.c.system_id == old_id))
        .where(new.c.system_id == new_id)
        .where(
            sa.func.coalesce(sa.cast(old.c.parents, sa.Text), "[]")
            != sa.func.coalesce(sa.cast(new.c.parents, sa.Text), "[]")
        )
    )
    added_count, added_examples = _codes(connection, added)
    gone_count, gone_examples = _codes(connection, gone)
    relabelled_count, relabelled_examples = _codes(connection, relabelled)
    moved_count, moved_examples = _codes(connection, moved)
    return CodeChanges(
        added=added_count,
        retired=gone_count,
        relabelled=relabelled_count,
        moved=moved_count,
        examples_added=added_examples,
        examples_retired=gone_examples,
        examples_relabelled=relabelled_examples,
        examples_moved=moved_examples,
    )
