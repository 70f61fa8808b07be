"""The command line as a terminologist uses it, on SQLite and PostgreSQL."""

from __future__ import annotations

import csv
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from terminology.cli.main import main
from terminology.settings import get_settings
from tests.conftest import BUNDLED
from tests.sssom_validate import assert_passes_sssom_validate


@pytest.fixture
def cli_database(database_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    monkeypatch.setenv("CONCORDANCE_DATABASE_URL", database_url)
    get_settings.cache_clear()
    yield database_url
    get_settings.cache_clear()


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    status = main(list(args))
    out, err = capsys.readouterr()
    return status, out, err


def test_import_then_list_and_search(cli_database: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(capsys, "db", "upgrade")[0] == 0
    samu = BUNDLED / "samu_nomenclature" / "samu_nomenclature_v1.9.csv"
    status, out, _ = run(
        capsys,
        "import",
        "csv",
        str(samu),
        "--url",
        "urn:samu",
        "--version",
        "1.9",
        "--language",
        "fr",
        "-q",
    )
    assert status == 0
    assert "urn:samu|1.9: 286 concepts" in out
    status, out, _ = run(capsys, "systems")
    assert status == 0 and "urn:samu" in out and "286" in out and "fr" in out
    status, out, _ = run(capsys, "concepts", "urn:samu|1.9", "--search", "hemorragie", "--limit", "50")
    assert status == 0
    assert "Hémorragie" in out


def test_new_version_shows_what_changed(cli_database: str, capsys: pytest.CaptureFixture[str]) -> None:
    run(capsys, "db", "upgrade")
    folder = BUNDLED / "samu_nomenclature"
    run(
        capsys,
        "import",
        "csv",
        str(folder / "samu_nomenclature_v1.9.csv"),
        "--url",
        "urn:samu",
        "--version",
        "1.9",
    )
    status, out, _ = run(
        capsys,
        "import",
        "csv",
        str(folder / "samu_nomenclature_v2.3.csv"),
        "--url",
        "urn:samu",
        "--version",
        "2.3",
    )
    assert status == 0
    assert "against version 1.9: 351 added, 280 retired, 2 relabelled" in out
    status, out, _ = run(
        capsys,
        "import",
        "csv",
        str(folder / "samu_nomenclature_v2.3.csv"),
        "--url",
        "urn:samu",
        "--version",
        "2.3",
    )
    assert status == 0 and "unchanged" in out


def test_bad_file_error_format_and_exit_status(
    cli_database: str, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    run(capsys, "db", "upgrade")
    bad = tmp_path / "bad.csv"
    bad.write_text("code,display,parent\nA,a,\nB,b,Z\n", encoding="utf-8")
    status, _out, err = run(capsys, "import", "csv", str(bad))
    assert status == 1
    assert (
        err.strip()
        == f"concordance: error: {bad}:3: field 'parent': concept 'B' names parent 'Z', which is not defined"
    )
    assert run(capsys, "systems")[1].count("bad") == 0


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("import", "nope", "x.csv"), "unknown format 'nope'; known formats: csv"),
        (("import", "csv", "missing.csv"), "missing.csv: no such file or directory"),
        (("import", "csv", "x.csv", "-o", "colour"), "not of the form key=value"),
        (("concepts", "urn:none|1"), "no code system 'urn:none|1' is stored"),
    ],
)
def test_usage_errors_are_one_clear_line(
    cli_database: str, capsys: pytest.CaptureFixture[str], args: tuple[str, ...], message: str
) -> None:
    run(capsys, "db", "upgrade")
    status, _, err = run(capsys, *args)
    assert status == 1
    assert err.startswith("concordance: error: ") and message in err
    assert len(err.strip().splitlines()) == 1


def test_commands_before_upgrade_ask_for_it(cli_database: str, capsys: pytest.CaptureFixture[str]) -> None:
    status, _, err = run(capsys, "systems")
    assert status == 1 and "concordance db upgrade" in err


def test_load_manifest(cli_database: str, capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    run(capsys, "db", "upgrade")
    manifest = tmp_path / "m.toml"
    target = BUNDLED / "hl7_conceptmaps" / "v2-0487_specimen_type_tho7.csv"
    manifest.write_text(
        f'[[code_system]]\nurl = "urn:v2-0487"\nversion = "7"\nformat = "csv"\npath = "{target}"\n',
        encoding="utf-8",
    )
    status, out, _ = run(capsys, "load", str(manifest), "-q")
    assert status == 0 and "urn:v2-0487|7: 315 concepts" in out


def test_formats_lists_every_importer_and_its_options(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, _ = run(capsys, "formats")
    assert status == 0
    assert "csv:" in out and "-o encoding=utf-8-sig" in out and "-o unknown_parents=error" in out
    assert "PydanticUndefined" not in out  # defaults made by a factory show as what they make
    options = [line for line in out.splitlines() if line.strip().startswith("-o ")]
    assert options and all("  " in line.strip() for line in options)  # each option says what it does
    assert "-o languages=['en']" in out


def test_a_csv_given_as_rules_is_a_clear_error(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    from terminology.matching.rules import RuleFileError, load_rules

    pairs = tmp_path / "pairs.csv"
    pairs.write_text(
        "source_label,target_system,target_code\nGlycémie,http://loinc.org,2345-7\n", encoding="utf-8"
    )
    with pytest.raises(RuleFileError, match=r"a rule file is YAML with a 'kind'.*goes to --memory"):
        load_rules([pairs])


def test_match_writes_sssom_and_stores_the_project(
    cli_database: str, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    from sssom.parsers import parse_sssom_table

    from terminology.settings import Settings
    from terminology.storage.database import SqlDatabase
    from terminology.storage.engine import make_engine
    from terminology.storage.projects import project_candidates

    run(capsys, "db", "upgrade")
    folder = BUNDLED / "samu_nomenclature"
    for version in ("1.9", "2.3"):
        path = folder / f"samu_nomenclature_v{version}.csv"
        run(
            capsys,
            "import",
            "csv",
            str(path),
            "--url",
            "urn:samu",
            "--version",
            version,
            "--name",
            "SAMU",
            "-q",
        )
    out = tmp_path / "samu.sssom.tsv"
    rules = Path(__file__).resolve().parents[3] / "mapping_rules" / "rules" / "nomenclature_upgrade.yaml"
    args = (
        "match",
        "--source",
        "urn:samu|1.9",
        "--target",
        "urn:samu|2.3",
        "--rules",
        str(rules),
        "--top",
        "3",
    )
    status, printed, _ = run(capsys, *args, "--out", str(out), "--project", "samu-upgrade", "-q")
    assert status == 0 and "samu-upgrade: " in printed and "of 286 source concepts" in printed
    assert_passes_sssom_validate(out)  # a urn: system
    mapping_set = parse_sssom_table(out)
    assert len(mapping_set.df) > 286
    with (folder / "samu_nomenclature_v1.9.csv").open(encoding="utf-8") as handle:
        displays = {line["code"]: line["display"] for line in csv.DictReader(handle)}
    labels = dict(zip(mapping_set.df["subject_id"], mapping_set.df["subject_label"], strict=True))
    assert labels == {f"SAMU:{code}": displays[code] for code in (s[5:] for s in labels)}  # not a synonym
    assert all(comment.startswith("rank ") for comment in mapping_set.df["comment"])
    lexical = mapping_set.df[mapping_set.df["mapping_justification"] == "semapv:LexicalMatching"]
    assert all(
        'labels "' in comment or "3-gram TF-IDF cosine" in comment or "same label" in comment
        for comment in lexical["comment"]
    )  # the labels that matched, or the TF-IDF evidence that proposed the pair
    assert set(mapping_set.df["predicate_id"]) <= {
        "skos:exactMatch",
        "skos:broadMatch",
        "skos:narrowMatch",
        "skos:relatedMatch",
    }
    assert mapping_set.converter.expand("SAMU:C02.18.00") == "urn:samu/C02.18.00"
    store = SqlDatabase(make_engine(Settings(database_url=cli_database)))
    stored = project_candidates(store, "samu-upgrade")
    assert len(stored) == len(mapping_set.df)
    assert stored[0]["rank"] == 1 and stored[0]["reason"]
    status, printed, _ = run(capsys, *args, "--project", "samu-upgrade", "-q")
    assert "replaced the previous run" in printed
    assert len(project_candidates(store, "samu-upgrade")) == len(stored)
    status, printed, err = run(capsys, *args, "--out", "-", "--project", "samu-upgrade", "-q")
    assert printed.startswith("# curie_map:") and "samu-upgrade:" in err

    from terminology.review.workflow import Actor, Decision, Role, Target, decide
    from terminology.storage import curation, projects

    project = projects.get_project(store, "samu-upgrade")

    def accept(code: str) -> None:
        row = curation.get_row(store, project, code)
        for decision, actor in (
            (
                Decision(action="map", targets=(Target(code="C02.18.00"),)),
                Actor(name="ana", role=Role.AUTHOR),
            ),
            (Decision(action="submit"), Actor(name="ana", role=Role.AUTHOR)),
            (Decision(action="accept"), Actor(name="rui", role=Role.REVIEWER)),
        ):
            row = curation.save_decision(store, row, decide(row, decision, actor), action=decision.action)

    accept("C02.05.03")
    status, printed, err = run(capsys, "publish", "samu-upgrade")
    assert status == 0 and "(draft): 1 elements" in printed  # a draft unless asked
    assert "1 of 286 rows are accepted (0.3 %); the 285 others are not in this map" in err
    accept("C02.16.02")
    time.sleep(1.1)  # a published version is stamped to the second
    status, printed, err = run(capsys, "publish", "samu-upgrade", "--status", "active")
    assert status == 0, err
    assert "(active): 2 elements" in printed
    status, printed, _ = run(capsys, "projects", "list")
    assert status == 0 and "samu-upgrade" in printed and "2 (0.7 %)" in printed
    status, printed, _ = run(capsys, "projects", "show", "samu-upgrade")
    assert status == 0 and "accepted 2 (0.7 %)" in printed and "ana" in printed
    status, printed, _ = run(capsys, "projects", "export", "samu-upgrade", "--format", "csv")
    assert status == 0 and printed.count("C02.18.00") == 2 and "C02.05.03" in printed
    assert (
        run(capsys, "projects", "export", "samu-upgrade", "--format", "xml")[0] != 0
        and "2 of 286 rows are accepted" in err
    )


def test_match_with_a_memory_file_offers_validated_pairs(
    cli_database: str, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    import polars as pl

    run(capsys, "db", "upgrade")
    pairs = pl.read_csv(BUNDLED / "hl7_conceptmaps" / "fhir_r4_conceptmap_pairs.csv", infer_schema=False)
    status = pairs.filter(
        (pl.col("target_system") == "http://hl7.org/fhir/resource-status")
        & pl.col("source_display").is_not_null()
    )
    task = status.filter(pl.col("conceptmap_id") == "sc-task-status")
    for side, url in (("source", "urn:task-status"), ("target", "http://hl7.org/fhir/resource-status")):
        path = tmp_path / f"{side}.csv"
        task.select(code=f"{side}_code", display=f"{side}_display").unique("code").write_csv(path)
        run(capsys, "import", "csv", str(path), "--url", url, "--version", "1", "--name", side, "-q")
    memory = tmp_path / "memory.csv"
    status.filter(pl.col("conceptmap_id") != "sc-task-status").select(
        source_label="source_display", target_system="target_system", target_code="target_code"
    ).write_csv(memory)
    status_code, out, err = run(
        capsys,
        "match",
        "--source",
        "urn:task-status|1",
        "--target",
        "http://hl7.org/fhir/resource-status|1",
        "--memory",
        str(memory),
        "--out",
        "-",
        "-q",
    )
    assert status_code == 0, err
    rows = [line.split("\t") for line in out.splitlines() if line.startswith("source:in-progress\t")]
    assert rows[0][3] == "target:active" and rows[0][5] == "semapv:BackgroundKnowledgeBasedMatching"
    assert "validated before" in rows[0][7]
    broken = tmp_path / "broken.csv"
    broken.write_text("source_label,target_system\nx,y\n", encoding="utf-8")
    status_code, _, err = run(
        capsys, "match", "--source", "urn:task-status|1", "--target",
        "http://hl7.org/fhir/resource-status|1", "--memory", str(broken), "-q",
    )  # fmt: skip
    assert status_code == 1 and f"{broken}:1:" in err and "target_code" in err


def test_learning_loop_from_the_command_line(
    cli_database: str, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """Import a sample of validated pairs as decisions, retrain, and get the SSSOM of the
    rows still to decide, ranked by the project's model."""
    import csv

    samu = BUNDLED / "samu_nomenclature"
    assert run(capsys, "db", "upgrade")[0] == 0
    for version in ("1.9", "2.3"):
        path = samu / f"samu_nomenclature_v{version}.csv"
        assert run(capsys, "import", "csv", str(path), "--url", "urn:samu", "--version", version)[0] == 0
    status, out, _ = run(
        capsys, "match", "--source", "urn:samu|1.9", "--target", "urn:samu|2.3", "--project", "samu", "-q"
    )
    assert status == 0 and "samu:" in out
    with (samu / "samu_nomenclature_pairs.csv").open(encoding="utf-8") as handle:
        pairs = [
            (row["source_code"], row["target_code"])
            for row in csv.DictReader(handle)
            if row["source_version"] == "1.9" and row["target_code"]
        ]
    sample = pairs[::10]
    decisions = tmp_path / "validated.csv"
    decisions.write_text(
        "source_code,target_code,equivalence,author\n"
        + "".join(f"{source},{target},equivalent,ana\n" for source, target in sample),
        encoding="utf-8",
    )
    status, _, err = run(capsys, "decisions", "import", "samu", str(decisions), "--by", "rui")
    assert status == 1 and "'rui' is not a member of project 'samu'" in err  # --by is a member, looked up
    assert run(capsys, "users", "add", "rui")[0] == 0
    assert run(capsys, "members", "add", "samu", "rui", "reviewer")[0] == 0
    status, out, err = run(capsys, "decisions", "import", "samu", str(decisions), "--by", "rui")
    decided = {source for source, _ in sample}
    assert status == 0, err
    assert f"{len(decided)} decisions imported from validated.csv as accepted (reviewer rui)" in out
    out_file = tmp_path / "rest.sssom.tsv"
    status, out, err = run(capsys, "match", "--retrain", "samu", "--out", str(out_file))
    assert status == 0, err
    assert_passes_sssom_validate(out_file)
    assert f"retrained on {len(decided)} accepted decisions" in out
    rows = [
        line.split("\t")
        for line in out_file.read_text(encoding="utf-8").splitlines()
        if not line.startswith("#")
    ]
    subjects = {row[0].split(":", 1)[1] for row in rows[1:]}
    assert subjects and not subjects & decided  # only rows still to decide
    assert all("project model" in row[7] for row in rows[1:])
    status, _, err = run(capsys, "decisions", "import", "samu", str(decisions), "--by", "rui")
    assert status == 1 and "validated.csv:2:" in err and "already accepted" in err  # nothing twice


def test_an_import_without_url_or_version_says_what_it_chose(
    cli_database: str, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    run(capsys, "db", "upgrade")
    local = tmp_path / "labo_local.csv"
    local.write_text("code,display\nGLY,Glycémie\n", encoding="utf-8")
    status, out, _ = run(capsys, "import", "csv", str(local), "-q")
    assert status == 0
    assert (
        "note: no url given and labo_local.csv names none: stored as urn:concordance:codesystem:labo_local"
        in out
    )
    assert "note: no version given" in out
    status, out, _ = run(capsys, "import", "csv", str(local), "--url", "urn:labo", "--version", "1", "-q")
    assert status == 0 and "note:" not in out
