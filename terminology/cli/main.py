"""``concordance``: import code systems and look at what is stored.

Errors are printed once, here, as ``concordance: error: FILE:LINE: what is wrong``.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Annotated, Any

import click
import sqlalchemy as sa
import typer

from terminology.backends import Backends
from terminology.cli.curation import decisions_app, members_app, projects_app, review_demo, users_app
from terminology.cli.output import (
    concepts_table,
    console,
    progress_bar,
    report_lines,
    roots_table,
    systems_table,
)
from terminology.cli.publication import maps_app, publish_command
from terminology.cli.store import open_store
from terminology.cli.valuesets import value_sets_app
from terminology.errors import ConcordanceError
from terminology.importers import format_names, importer_class
from terminology.importers.base import total_size
from terminology.models import CodeSystemMetadata, ImportReport
from terminology.services.code_systems import hierarchy_roots, read_manifest
from terminology.services.database import check_connection, database_revision, upgrade_database
from terminology.services.importing import import_code_system, options_from_pairs
from terminology.settings import get_settings

app = typer.Typer(
    name="concordance",
    help="Concordance: import code systems, align them, curate and publish mappings.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
db_app = typer.Typer(help="Database schema.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(users_app, name="users")
app.add_typer(members_app, name="members")
app.add_typer(decisions_app, name="decisions")
app.add_typer(projects_app, name="projects")
app.command("review-demo")(review_demo)
app.command("publish")(publish_command)
app.add_typer(maps_app, name="conceptmaps")
app.add_typer(value_sets_app, name="valuesets")


def split_reference(reference: str) -> tuple[str, str | None]:
    """``url|version`` → (url, version); a bare URL means its latest version."""
    url, _, version = reference.partition("|")
    return url, version or None


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Create or migrate the database schema to the latest revision."""
    console().print(upgrade_database())


@db_app.command("current")
def db_current() -> None:
    """Show the schema revision of the database."""
    current, head = database_revision()
    console().print(f"{current or 'empty'} (head: {head})")


@app.command("formats")
def formats() -> None:
    """List the import formats and their options."""
    out = console()
    for name in format_names():
        cls = importer_class(name)
        out.print(f"[bold]{name}[/bold]: {cls.summary}")
        for option, info in cls.options_model.model_fields.items():
            default = info.get_default(call_default_factory=True)
            shown = "" if default in (None, {}, []) else default
            described = f"  {info.description}" if info.description else ""
            out.print(f"    -o {option}={shown}{described}", markup=False)


def run_import(
    store: Backends,
    format_name: str,
    path: Path,
    raw_options: dict[str, Any],
    metadata: CodeSystemMetadata,
    *,
    show_progress: bool,
) -> ImportReport:
    importer = importer_class(format_name).with_options(raw_options)
    size = (
        total_size([p for p in ([path] if path.is_file() else path.rglob("*")) if p.is_file()])
        if path.exists()
        else 0
    )
    with progress_bar(f"importing {path.name}", size, enabled=show_progress) as progress:
        return import_code_system(store, importer, path, overrides=metadata, progress=progress)


@app.command("import")
def import_command(
    format_name: Annotated[
        str, typer.Argument(metavar="FORMAT", help="csv, fhir, claml, loinc, snomed-rf2, owl, skos")
    ],
    path: Annotated[Path, typer.Argument(help="The file (or RF2 folder) to import.")],
    url: Annotated[str | None, typer.Option(help="Canonical URL of the code system.")] = None,
    version: Annotated[str | None, typer.Option(help="Version label of this release.")] = None,
    name: Annotated[str | None, typer.Option(help="Computer-friendly name.")] = None,
    title: Annotated[str | None, typer.Option(help="Human-friendly title.")] = None,
    publisher: Annotated[str | None, typer.Option(help="Who publishes the code system.")] = None,
    language: Annotated[str | None, typer.Option(help="Language of the displays, e.g. fr.")] = None,
    option: Annotated[
        list[str] | None,
        typer.Option("--option", "-o", help="Format option KEY=VALUE (see 'concordance formats')."),
    ] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar.")] = False,
) -> None:
    """Import a code system version; the database is unchanged if anything is wrong."""
    metadata = CodeSystemMetadata(
        url=url, version=version, name=name, title=title, publisher=publisher, language=language
    )
    report = run_import(
        open_store(),
        format_name,
        path,
        options_from_pairs(option or []),
        metadata,
        show_progress=not quiet and sys.stderr.isatty(),
    )
    for line in report_lines(report):
        console().print(line, markup=False)


@app.command("load")
def load_manifest(
    manifest: Annotated[Path, typer.Argument(help="A TOML manifest such as data/bundled.toml.")],
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar.")] = False,
) -> None:
    """Import every code system a manifest lists (paths relative to the manifest)."""
    store = open_store()
    out = console()
    for entry in read_manifest(manifest):
        report = run_import(
            store,
            entry.format,
            entry.path,
            entry.options,
            entry.metadata,
            show_progress=not quiet and sys.stderr.isatty(),
        )
        for line in report_lines(report):
            out.print(line, markup=False)
    out.print(systems_table(store.code_systems()))


@app.command("systems")
def systems(
    roots: Annotated[
        str | None,
        typer.Option(
            "--roots",
            metavar="URL[|VERSION]",
            help="List that version's roots instead (chapters first; orphans named).",
        ),
    ] = None,
) -> None:
    """List the stored code systems and their versions, or one version's roots."""
    store = open_store()
    out = console()
    if roots is None:
        out.print(systems_table(store.code_systems()))
        return
    url, version = split_reference(roots)
    report = hierarchy_roots(store, store.code_system(url, version))
    out.print(roots_table(report))
    for warning in report.check.warnings():
        out.print(f"WARNING: {warning}", markup=False)


@app.command("concepts")
def concepts(
    reference: Annotated[str, typer.Argument(metavar="URL[|VERSION]")],
    search: Annotated[
        str | None, typer.Option(help="Text in the code or any label (accents and case ignored).")
    ] = None,
    limit: Annotated[int, typer.Option(min=1, max=10_000, help="Concepts shown at most.")] = 20,
    offset: Annotated[int, typer.Option(min=0, help="Concepts skipped first (to page).")] = 0,
) -> None:
    """Show concepts of a code system, optionally searching their labels."""
    store = open_store()
    url, version = split_reference(reference)
    system = store.code_system(url, version)
    console().print(concepts_table(system, store.concepts(system, search=search, limit=limit, offset=offset)))


@app.command("match")
def match_command(
    source: Annotated[
        str | None, typer.Option(metavar="URL[|VERSION]", help="The code system to map from.")
    ] = None,
    target: Annotated[
        str | None, typer.Option(metavar="URL[|VERSION]", help="The code system to map to.")
    ] = None,
    rules: Annotated[
        list[Path] | None, typer.Option("--rules", help="Rule file (mapping_rules/rules/*.yaml).")
    ] = None,
    memory: Annotated[
        list[Path] | None,
        typer.Option(
            "--memory",
            help="CSV of validated pairs (source_label, target_system, target_code[, equivalence, origin]).",
        ),
    ] = None,
    top: Annotated[int, typer.Option("--top", min=1, max=50, help="Candidates kept per source concept.")] = 5,
    min_score: Annotated[
        float,
        typer.Option(
            "--min-score",
            min=0.0,
            max=1.0,
            help="Show only candidates at this estimated probability or above "
            "(each source keeps its best one).",
        ),
    ] = 0.0,
    out: Annotated[
        str | None, typer.Option("--out", help="SSSOM TSV file, or - for standard output.")
    ] = None,
    project: Annotated[
        str | None, typer.Option(help="Mapping project name (default: from the two versions).")
    ] = None,
    retrain: Annotated[
        str | None,
        typer.Option(
            "--retrain",
            metavar="PROJECT",
            help="Re-rank a project's candidates with a model fitted on its decisions "
            "(same versions, rules and memory as its last match); --out then writes the undecided rows.",
        ),
    ] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar.")] = False,
) -> None:
    """Propose ranked candidates from SOURCE to TARGET, store them as a mapping project
    (review starts there) and write them as SSSOM; or, with --retrain, learn from a
    project's decisions and re-rank what is left."""
    from terminology.services.matching import match_and_save, write_candidates_sssom

    store = open_store()
    if retrain is not None:
        _retrain(store, retrain, out, quiet=quiet)
        return
    if source is None or target is None:
        raise typer.BadParameter("give --source and --target, or --retrain PROJECT")
    source_system = store.code_system(*split_reference(source))
    target_system = store.code_system(*split_reference(target))
    labels = store.labels_frame(source_system).height
    name = project or f"{source_system.reference} → {target_system.reference}"
    with progress_bar(
        "matching labels", labels, enabled=not quiet and sys.stderr.isatty(), unit="items"
    ) as progress:
        matched = match_and_save(
            store, source_system, target_system, rules=list(rules or []), memory=list(memory or []),
            top_k=top, min_score=min_score, project=name, progress=progress,
        )  # fmt: skip
    found, saved = matched.candidates, matched.project
    assert saved is not None  # a name was given
    mapped = len({c.source_code for c in found})
    summary = (
        f"{name}: {len(found):,} candidates for {mapped:,} of {source_system.concept_count:,} source concepts"
        f"{' (replaced the previous run)' if saved.replaced else ''}"
    )
    set_id = f"urn:concordance:mapping-set:{saved.id}"
    if out == "-":
        write_candidates_sssom(store, found, source_system, target_system, sys.stdout, mapping_set_id=set_id)
        print(summary, file=sys.stderr)
        return
    if out:
        with open(out, "w", encoding="utf-8", newline="") as handle:
            write_candidates_sssom(store, found, source_system, target_system, handle, mapping_set_id=set_id)
    console().print(summary + (f"; SSSOM written to {out}" if out else ""), markup=False)


def _retrain(store: Backends, project: str, out: str | None, *, quiet: bool) -> None:
    """``match --retrain``: learn from the project's decisions, re-rank, write what is left."""
    from terminology.services.matching import write_candidates_sssom
    from terminology.services.projects import decided_codes, find_project
    from terminology.services.retraining import retrain_now

    found_project = find_project(store, project)
    report, found = retrain_now(store, found_project)  # under the same lock as the server's refits
    decided = decided_codes(store, found_project)
    remaining = [c for c in found if c.source_code not in decided]
    undecided = len({c.source_code for c in remaining})
    summary = (
        f"{report.project}: retrained on {report.decisions:,} accepted decisions ({report.model}); "
        f"{len(remaining):,} candidates for {undecided:,} undecided source concepts"
    )
    if out:
        source = store.code_system_by_id(found_project.source_system_id)
        target = store.code_system_by_id(found_project.target_system_id)
        set_id = f"urn:concordance:mapping-set:{found_project.id}"
        if out == "-":
            write_candidates_sssom(store, remaining, source, target, sys.stdout, mapping_set_id=set_id)
            print(summary, file=sys.stderr)
            return
        with open(out, "w", encoding="utf-8", newline="") as handle:
            write_candidates_sssom(store, remaining, source, target, handle, mapping_set_id=set_id)
        summary += f"; SSSOM written to {out}"
    console().print(summary, markup=False)


def main(argv: list[str] | None = None) -> int:
    """Run the command line and return its exit status; domain errors become one stderr line."""
    try:
        result = app(args=argv, prog_name="concordance", standalone_mode=False)
    except ConcordanceError as error:
        print(f"concordance: error: {error}", file=sys.stderr)
        return 1
    except click.exceptions.Abort:
        print("concordance: aborted", file=sys.stderr)
        return 130
    except click.ClickException as error:
        error.show()
        return error.exit_code
    except sa.exc.OperationalError as error:
        print(f"concordance: error: {unreachable(error)}", file=sys.stderr)
        return 1
    except OSError as error:
        print(f"concordance: error: {error.filename or ''}: {error.strerror or error}", file=sys.stderr)
        return 1
    except Exception as error:
        if os.environ.get("CONCORDANCE_DEBUG"):
            raise
        said = str(error).splitlines()[0][:300] if str(error) else ""
        print(
            f"concordance: error: unexpected {type(error).__name__}: {said} (CONCORDANCE_DEBUG=1: where)",
            file=sys.stderr,
        )
        return 1
    return result if isinstance(result, int) else 0


def unreachable(error: sa.exc.OperationalError) -> str:
    """What went wrong with the database (its password hidden), in one line: that it cannot
    be reached, when a new connection fails too, else the database's own words."""
    url = sa.engine.make_url(get_settings().database_url).render_as_string(hide_password=True)
    reason = str(error.orig).strip().splitlines()[0][:200] if error.orig else str(error)[:200]
    try:
        check_connection()
    except sa.exc.OperationalError:
        return f"cannot reach the database {url}: {reason}"
    return f"database error on {url}: {reason}"


def run() -> None:
    """Console-script entry point."""
    sys.exit(main())
