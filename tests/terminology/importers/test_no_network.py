"""Importers never touch the network (issue 12): an OWL file's ``owl:imports`` and a JSON-LD
file's remote ``@context`` are not fetched — a loopback server counts every request — and the
import report says what was skipped."""

from __future__ import annotations

import http.server
import json
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import ClassVar

import pytest

from terminology.importers import importer_class
from terminology.services.importing import import_code_system
from terminology.storage.store import SqlStore
from tests.conftest import FIXTURES


class Counting(http.server.BaseHTTPRequestHandler):
    asked: ClassVar[list[str]] = []

    def do_GET(self) -> None:
        Counting.asked.append(self.path)
        body = b'<?xml version="1.0"?><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"/>'
        self.send_response(200)
        self.send_header("Content-Type", "application/rdf+xml")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def listener() -> Iterator[str]:
    """A loopback HTTP server that answers anything and counts what it was asked."""
    Counting.asked = []
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Counting)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


def owl_importing(base: str, tmp_path: Path) -> Path:
    text = (FIXTURES / "cim10_sample.owl").read_text(encoding="utf-8")
    ontology_open = text.index("<owl:Ontology")
    ontology_end = text.index(">", ontology_open) + 1
    imports = f'\n    <owl:imports rdf:resource="{base}/imported.owl"/>'
    path = tmp_path / "importing.owl"
    path.write_text(text[:ontology_end] + imports + text[ontology_end:], encoding="utf-8")
    return path


def test_owl_imports_are_not_fetched_and_the_report_says_so(
    store: SqlStore, listener: str, tmp_path: Path
) -> None:
    path = owl_importing(listener, tmp_path)
    report = import_code_system(store, importer_class("owl").with_options({"language": "fr"}), path)
    assert Counting.asked == []
    assert report.code_system.concept_count == 7  # the file's own classes, all of them
    assert any(f"{listener}/imported.owl" in note and "not fetched" in note for note in report.notes)


def test_a_remote_json_ld_context_is_not_fetched(store: SqlStore, listener: str, tmp_path: Path) -> None:
    document = {
        "@context": [
            f"{listener}/context.jsonld",
            {"skos": "http://www.w3.org/2004/02/skos/core#", "@vocab": "http://www.w3.org/2004/02/skos/core#"},
        ],
        "@graph": [
            {"@id": "urn:s", "@type": "skos:ConceptScheme", "skos:prefLabel": "S"},
            {"@id": "urn:s:A", "@type": "skos:Concept", "skos:prefLabel": "Alpha", "skos:notation": "A",
             "skos:inScheme": {"@id": "urn:s"}},
        ],
    }  # fmt: skip
    path = tmp_path / "scheme.jsonld"
    path.write_text(json.dumps(document), encoding="utf-8")
    report = import_code_system(store, importer_class("skos").with_options({}), path)
    assert Counting.asked == []
    assert report.code_system.concept_count == 1
    assert any(f"{listener}/context.jsonld" in note and "not fetched" in note for note in report.notes)


def test_the_owl_import_notes_reach_the_command_line(listener: str, tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from terminology.cli.main import app

    path = owl_importing(listener, tmp_path)
    env = {"CONCORDANCE_DATABASE_URL": f"sqlite:///{tmp_path / 'cli.db'}"}
    runner = CliRunner()
    assert runner.invoke(app, ["db", "upgrade"], env=env).exit_code == 0
    done = runner.invoke(app, ["import", "owl", str(path), "--option", "language=fr"], env=env)
    assert done.exit_code == 0, done.output
    assert "not fetched" in done.output and Counting.asked == []
