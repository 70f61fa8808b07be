"""The bundled ConceptMaps the demo serves, on SQLite and PostgreSQL."""

from __future__ import annotations

from terminology.publication.translate import MapIndex, Question, translate
from terminology.services.concept_maps import save_concept_map, serve_bundled_maps
from terminology.storage import conceptmaps
from terminology.storage.store import SqlStore

SAMU = "urn:concordance:codesystem:samu-hub-nomenclature"


def test_demo_maps_are_served_and_idempotent(store: SqlStore) -> None:
    printed = serve_bundled_maps(store)
    assert "233 curated SAMU-Hub codes; 79 HL7 example ConceptMaps imported" in printed
    assert "$translate?url=urn:concordance:ConceptMap:samu-hub-nomenclature-1.9-2.3" in printed
    curated = conceptmaps.search_concept_maps(
        store, url="urn:concordance:ConceptMap:samu-hub-nomenclature-1.9-2.3"
    )
    assert len(curated) == 1 and curated[0].status == "active"
    matches = translate(MapIndex(curated[0].resource), Question(((SAMU, "C02.05.03"),)))
    assert [m.code for m in matches] == ["C02.18.00"]
    serve_bundled_maps(store)  # again: same versions, nothing new
    assert len(conceptmaps.search_concept_maps(store)) == 80


def test_export_a_map_from_the_command_line(store: SqlStore, tmp_path, capsys, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from terminology.cli.main import main
    from terminology.settings import get_settings

    monkeypatch.setenv(
        "CONCORDANCE_DATABASE_URL", str(store.engine.url.render_as_string(hide_password=False))
    )
    get_settings.cache_clear()
    serve_bundled_maps(store)
    curated = conceptmaps.search_concept_maps(
        store, url="urn:concordance:ConceptMap:samu-hub-nomenclature-1.9-2.3"
    )[0]
    out = tmp_path / "samu.csv"
    assert main(["conceptmaps", "export", str(curated.id), "--format", "csv", "--out", str(out)]) == 0
    lines = out.read_text(encoding="utf-8").splitlines()
    assert lines[0].startswith("source_system,source_code") and len(lines) == 1 + 233
    assert main(["conceptmaps", "export", str(curated.id), "--format", "turtle"]) == 1
    assert "unknown export format 'turtle'" in capsys.readouterr().err
    get_settings.cache_clear()


def test_diff_two_versions_from_the_command_line(store: SqlStore, capsys, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from terminology.cli.main import main
    from terminology.settings import get_settings

    monkeypatch.setenv(
        "CONCORDANCE_DATABASE_URL", str(store.engine.url.render_as_string(hide_password=False))
    )
    get_settings.cache_clear()
    serve_bundled_maps(store)
    old = conceptmaps.search_concept_maps(
        store, url="urn:concordance:ConceptMap:samu-hub-nomenclature-1.9-2.3"
    )[0]
    resource = {**old.resource, "version": "next"}
    elements = resource["group"][0]["element"]
    resource["group"] = [{**resource["group"][0], "element": elements[1:]}]  # one code dropped
    new, _ = save_concept_map(store, resource)
    capsys.readouterr()
    assert main(["conceptmaps", "diff", str(old.id), str(new.id)]) == 0
    printed = capsys.readouterr().out
    assert f"removed  {elements[0]['code']}:" in printed and printed.rstrip().endswith(
        "0 added, 1 removed, 0 changed"
    )
    get_settings.cache_clear()


def test_import_an_sssom_mapping_set_from_the_command_line(
    store: SqlStore, tmp_path, capsys, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    from terminology.cli.main import main
    from terminology.settings import get_settings

    monkeypatch.setenv(
        "CONCORDANCE_DATABASE_URL", str(store.engine.url.render_as_string(hide_password=False))
    )
    get_settings.cache_clear()
    mapping_set = tmp_path / "samu.sssom.tsv"
    mapping_set.write_text(
        "# curie_map:\n#   SAMU: urn:samu/\n# mapping_set_id: urn:example:samu-upgrade\n"
        "subject_id\tpredicate_id\tobject_id\tmapping_justification\n"
        "SAMU:C02.05.03\tskos:exactMatch\tSAMU:C02.18.00\tsemapv:ManualMappingCuration\n",
        encoding="utf-8",
    )
    assert main(["conceptmaps", "import", str(mapping_set), "--status", "active"]) == 1
    assert "mapping_set_version is missing" in capsys.readouterr().err  # nothing stored
    assert conceptmaps.search_concept_maps(store, url="urn:example:samu-upgrade") == []
    assert main(["conceptmaps", "import", str(mapping_set), "--status", "active", "--version", "1"]) == 0
    (stored,) = conceptmaps.search_concept_maps(store, url="urn:example:samu-upgrade")
    assert stored.status == "active" and stored.version == "1"
    matches = translate(MapIndex(stored.resource), Question((("urn:samu", "C02.05.03"),)))
    assert [(m.code, m.equivalence) for m in matches] == [("C02.18.00", "equivalent")]
    get_settings.cache_clear()


def test_import_and_list_value_sets_from_the_command_line(
    store: SqlStore, tmp_path, capsys, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    import json

    from terminology.cli.main import main
    from terminology.settings import get_settings

    monkeypatch.setenv(
        "CONCORDANCE_DATABASE_URL", str(store.engine.url.render_as_string(hide_password=False))
    )
    get_settings.cache_clear()
    path = tmp_path / "samu-scope.json"
    resource = {"resourceType": "ValueSet", "url": "urn:vs:samu-scope", "name": "SamuScope", "status": "draft",
                "compose": {"include": [{"system": SAMU, "concept": [{"code": "C02.05.03"}]}]}}  # fmt: skip
    path.write_text(json.dumps(resource), encoding="utf-8")
    assert main(["valuesets", "import", str(path), "--version", "1"]) == 0
    assert "urn:vs:samu-scope|1 (draft, r1)" in capsys.readouterr().out
    assert main(["valuesets", "import", str(path), "--version", "1", "--status", "active"]) == 0
    assert "urn:vs:samu-scope|1 (active, r2)" in capsys.readouterr().out
    assert main(["valuesets", "list"]) == 0
    assert "urn:vs:samu-scope|1\tactive\tr2" in capsys.readouterr().out
    assert main(["valuesets", "import", str(path)]) == 1  # no version in the file nor given
    assert "version is required" in capsys.readouterr().err
