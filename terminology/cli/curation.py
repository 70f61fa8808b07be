"""``concordance users``, ``members`` and ``decisions``: who may curate which project, and
decisions curators made elsewhere."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from terminology.backends import Backends
from terminology.cli.store import open_store
from terminology.errors import ConcordanceError
from terminology.records import RowQuery
from terminology.review.decision_files import DecisionFormat
from terminology.review.workflow import Role, Status
from terminology.services import users
from terminology.services.audit import export_decisions
from terminology.services.decision_imports import import_decision_file
from terminology.services.projects import announce_project, find_project, projects_of
from terminology.services.queue import progress_report, queue_page
from terminology.services.users import new_user

users_app = typer.Typer(help="People and interfaces that call the API.", no_args_is_help=True)
members_app = typer.Typer(help="Roles in mapping projects.", no_args_is_help=True)
decisions_app = typer.Typer(help="Decisions of mapping projects.", no_args_is_help=True)
projects_app = typer.Typer(
    help="Mapping projects: list, progress, export of decisions.", no_args_is_help=True
)


def _store() -> Backends:
    return open_store()


@users_app.command("add")
def add_user(
    name: Annotated[str, typer.Argument(help="A unique name, e.g. an e-mail address.")],
    publisher: Annotated[
        bool, typer.Option(help="May write CodeSystems, ValueSets and ConceptMaps through the FHIR API.")
    ] = False,
) -> None:
    """Create a user and print their bearer token (shown once; only its hash is kept). A
    name with control or invisible characters, or another spelling of an existing user's,
    is refused."""
    store = _store()
    created, token = new_user(store, name)
    if publisher:
        users.set_publisher(store, created, True)
    typer.echo(f"{created}\t{token}")


@users_app.command("publisher")
def grant_publisher(
    name: Annotated[str, typer.Argument(help="User name.")],
    off: Annotated[bool, typer.Option("--off", help="Take the right away.")] = False,
) -> None:
    """Let a user write CodeSystems, ValueSets and ConceptMaps through the FHIR API (PUT/POST),
    or (--off) stop them; review roles in projects are unchanged."""
    user = users.set_publisher(_store(), name, not off)
    typer.echo(f"{user.name}: {'no longer a publisher' if off else 'publisher'}")


@members_app.command("add")
def add_member(
    project: Annotated[str, typer.Argument(help="Project name or number.")],
    user: Annotated[str, typer.Argument(help="User name.")],
    role: Annotated[Role, typer.Argument(help="viewer, author, reviewer, reconciler or admin.")],
) -> None:
    """Give a user a role in a project (replacing the role they had)."""
    store = _store()
    found = find_project(store, project)
    users.give_role(store, found, user, role)
    typer.echo(f"{user} is {role.value} in {found.name!r}")


@members_app.command("remove")
def remove_member(
    project: Annotated[str, typer.Argument(help="Project name or number.")],
    user: Annotated[str, typer.Argument(help="User name.")],
) -> None:
    """Take a user's role in a project away; their next request to it is refused."""
    store = _store()
    found = find_project(store, project)
    had = users.remove_member(store, found, user)
    typer.echo(f"{user} is no longer {had.value} in {found.name!r}")


@users_app.command("revoke")
def revoke_user(name: Annotated[str, typer.Argument(help="User name.")]) -> None:
    """Stop a user's token at once (a leaked token, someone who left); ``users token NAME``
    gives them a new one."""
    user = users.revoke_user(_store(), name)
    typer.echo(f"{user.name}: token revoked")


@projects_app.command("list")
def list_projects() -> None:
    """Every mapping project: its systems, review mode and progress."""
    from rich.table import Table

    from terminology.cli.output import console

    store = _store()
    table = Table("id", "name", "source → target", "review", "rows", "decided", "accepted")
    for project, _ in projects_of(store):
        if project.building:
            table.add_row(
                str(project.id), project.name, "being built since " + project.building, "", "", "", ""
            )
            continue
        report = progress_report(store, project)
        table.add_row(
            str(project.id),
            project.name,
            f"{store.code_system_by_id(project.source_system_id).reference} → "
            f"{store.code_system_by_id(project.target_system_id).reference}",
            project.review,
            f"{report.total:,}",
            _share(report.decided, report.total),
            _share(report.accepted, report.total),
        )
    console().print(table)


def _share(part: int, whole: int) -> str:
    return f"{part:,} ({100 * part / whole:.1f} %)" if whole else "0"


@projects_app.command("show")
def show_project(
    project: Annotated[str, typer.Argument(help="Project name or number.")],
    next_rows: Annotated[
        int, typer.Option("--next", min=0, max=1000, help="Undecided rows listed, most useful first.")
    ] = 10,
) -> None:
    """A project's progress: per status, per curator and per chapter, and the undecided rows
    most useful to decide next (those whose best two candidates the model can least tell apart)."""
    from rich.table import Table

    from terminology.cli.output import console

    store = _store()
    found = find_project(store, project)
    report = progress_report(store, found)
    out = console()
    out.print(f"[bold]{found.name}[/bold] ({found.review} review): {report.total:,} rows")
    out.print("  " + ", ".join(f"{status} {number:,}" for status, number in report.counts.items() if number))
    out.print(
        f"  decided {_share(report.decided, report.total)}, accepted {_share(report.accepted, report.total)}"
    )
    if report.frequency_covered is not None:
        out.print(f"  usage covered by accepted rows: {100 * report.frequency_covered:.1f} %")
    if report.curators:
        curators = Table("curator", "authored", "accepted", "assigned", "assigned and decided")
        for c in report.curators:
            curators.add_row(
                c["name"],
                f"{c['authored']:,}",
                f"{c['accepted']:,}",
                f"{c['assigned']:,}",
                f"{c['assigned_decided']:,}",
            )
        out.print(curators)
    chapters = Table("chapter", "rows", "decided")
    for c in report.chapters:
        chapters.add_row(
            str(c["display"] or c["code"] or "—"), f"{c['total']:,}", _share(c["decided"], c["total"])
        )
    out.print(chapters)
    undecided = RowQuery(sort="useful", status=(Status.UNMAPPED,), limit=max(next_rows, 1))
    page = queue_page(store, found, undecided)
    if next_rows and page.rows:
        useful = Table("most useful to decide next", "label", "best score")
        for row, best in page.rows:
            useful.add_row(row.source_code, row.source_label or "", "—" if best is None else f"{best:.2f}")
        out.print(useful)


@projects_app.command("export")
def export_project(
    project: Annotated[str, typer.Argument(help="Project name or number.")],
    format: Annotated[str, typer.Option("--format", help="sssom or csv.")] = "sssom",
    out: Annotated[
        Path | None, typer.Option("--out", help="File to write (default: standard output).")
    ] = None,
) -> None:
    """The project's decisions (accepted, and rejected ones as negative mappings) as SSSOM
    TSV or CSV, as the API's export gives them."""
    if format not in ("sssom", "csv"):
        raise typer.BadParameter(f"{format!r}: give sssom or csv", param_hint="--format")
    store = _store()
    found = find_project(store, project)
    text = export_decisions(store, found, "sssom" if format == "sssom" else "csv")
    if out is None:
        typer.echo(text, nl=False)
    else:
        out.write_text(text, encoding="utf-8")
        typer.echo(f"{found.name}: decisions written to {out}", err=True)


@decisions_app.command("import")
def import_decisions(
    project: Annotated[str, typer.Argument(help="Project name or number.")],
    file: Annotated[Path, typer.Argument(help="CSV, SSSOM TSV or Usagi export CSV.")],
    by: Annotated[
        str,
        typer.Option("--by", help="The project member (reviewer or above) who vouches for the decisions."),
    ],
    format: Annotated[
        DecisionFormat | None, typer.Option("--format", help="csv, sssom or usagi (default: from the file).")
    ] = None,
    replace: Annotated[
        bool,
        typer.Option("--replace", help="Overwrite rows curators already decided (admins only; recorded)."),
    ] = False,
) -> None:
    """Record validated mappings held elsewhere (a spreadsheet, SSSOM, a Usagi export) as
    accepted decisions, with FILE:LINE and their author in the audit trail, under the
    review rules: --by is a member with the reviewer role, never the file's author; rows
    already decided are refused unless an admin gives --replace; a row holding a pending
    blind answer refuses the file. A file with any bad row imports nothing. The project's
    model learns from them (match --retrain)."""
    store = _store()
    found = find_project(store, project)
    count = import_decision_file(store, found, file, by=by, format=format, replace=replace)
    typer.echo(f"{found.name}: {count:,} decisions imported from {file.name} as accepted (reviewer {by})")


@users_app.command("token")
def new_token(name: Annotated[str, typer.Argument(help="User name (created if missing).")]) -> None:
    """Print a new token for a user; their previous token stops working."""
    user, token = users.ensure_user(_store(), name)
    typer.echo(f"{user.name}\t{token}")


def open_demo_review(store: Backends, *, url: str = "http://127.0.0.1:8000") -> str:
    """Match the bundled SAMU-Hub nomenclature 1.9 → 2.3 into a review project and give the
    ``demo`` user the admin role in it; returns what to print."""
    from pathlib import Path

    from terminology.services.matching import match_and_save

    system = "urn:concordance:codesystem:samu-hub-nomenclature"
    old, new = store.code_system(system, "1.9"), store.code_system(system, "2.3")
    rules_folder = Path(__file__).resolve().parents[2] / "mapping_rules" / "rules"
    paths = [rules_folder / "nomenclature_upgrade.yaml", rules_folder / "samu_nomenclature.yaml"]
    saved = match_and_save(store, old, new, rules=paths, top_k=5, project="SAMU-Hub 1.9 → 2.3").project
    assert saved is not None
    project = find_project(store, saved.id)
    user, token = users.ensure_user(store, "demo")
    users.set_publisher(store, "demo", True)
    users.give_role(store, project, user.name, Role.ADMIN)
    return (
        f"Review project {project.name!r}: {saved.candidate_count:,} candidates for "
        f"{old.concept_count} source codes.\n"
        f"Review page: {url}/review?project={project.id}#token={token}\n"
        f"API token for user 'demo' (admin): {token}"
    )


SCALE_PROJECT = "CIM-11 FR → CIM-10 FR"
"""The demo's project at a real size: every CIM-11 MMS concept (36,044) to CIM-10 FR."""
CIM11 = "http://id.who.int/icd/release/11/mms"
CIM10 = "urn:concordance:codesystem:cim10-fr-gnuhealth"


def open_scale_review(store: Backends, *, member: str = "demo") -> str:
    """Match CIM-11 FR to CIM-10 FR into the demo's large project, announced first so that
    the review page says it is being built (about two minutes on two cores); ``member``
    becomes its admin. Kept as it is when it was built already."""
    from terminology.services.matching import match_and_save

    source, target = store.code_system(CIM11), store.code_system(CIM10)
    announced = announce_project(store, SCALE_PROJECT, source, target)
    users.give_role(store, announced, member, Role.ADMIN)
    if announced.building is None:
        return f"{SCALE_PROJECT!r} is ready (project {announced.id})."
    rules_folder = Path(__file__).resolve().parents[2] / "mapping_rules" / "rules"
    rules = [  # the README's rule files for this task
        rules_folder / "icd10_editions.yaml",
        rules_folder / "cim11_cim10_chapters.yaml",
        rules_folder / "cim11_cim10_labels.yaml",
    ]
    saved = match_and_save(store, source, target, rules=rules, top_k=5, project=SCALE_PROJECT).project
    assert saved is not None
    found = f"{saved.candidate_count:,} candidates for {source.concept_count:,} source codes"
    return f"{SCALE_PROJECT!r}: {found}."


DEMO_DATABASE = "sqlite:///concordance.db"
"""The database ``make demo`` fills: an SQLite file in the working directory."""


def refuse_unless_demo(store: Backends, database_url: str) -> None:
    """``review-demo`` makes an admin and prints its token: only on the demo database, and
    only while nobody but the demo user is in it."""
    import sqlalchemy as sa

    here = sa.engine.make_url(database_url)
    demo = sa.engine.make_url(DEMO_DATABASE)
    is_demo_file = (
        here.drivername == demo.drivername
        and here.database is not None
        and (Path(here.database).resolve() == Path(demo.database or "").resolve())
    )
    shown = here.render_as_string(hide_password=True)
    if not is_demo_file:
        raise DemoRefusedError(
            f"review-demo creates an admin ('demo') and prints its token: it runs on the demo database"
            f" ({DEMO_DATABASE}), not on {shown}; give --force to do it anyway"
        )
    others = [name for name in users.user_names(store) if name != "demo"]
    if others:
        raise DemoRefusedError(
            f"{shown} has real users ({', '.join(others[:3])}{'…' if len(others) > 3 else ''}): it is not"
            " a demo database any more; give --force to make the demo admin anyway"
        )


class DemoRefusedError(ConcordanceError):
    code = "demo-refused"
    http_status = 400
    fhir_issue = "forbidden"


def review_demo(
    url: Annotated[str, typer.Option(help="Where the server will listen.")] = "http://127.0.0.1:8000",
    force: Annotated[
        bool, typer.Option("--force", help="Run on a database other than the demo one (it gets an admin).")
    ] = False,
    scale: Annotated[
        bool,
        typer.Option(
            "--scale",
            help="Build the large project instead (CIM-11 FR → CIM-10 FR, 36,044 rows; about two minutes).",
        ),
    ] = False,
) -> None:
    """Open the demo review project (SAMU-Hub 1.9 → 2.3), serve the bundled ConceptMaps, and
    print the review page, a token and example FHIR calls (on the demo database only)."""
    from terminology.services.concept_maps import serve_bundled_maps
    from terminology.settings import get_settings

    store = _store()
    if not force:
        refuse_unless_demo(store, get_settings().database_url)
    if scale:
        typer.echo(open_scale_review(store))
        return
    typer.echo(open_demo_review(store, url=url))
    typer.echo(serve_bundled_maps(store, url=url))
