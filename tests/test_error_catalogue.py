"""One error catalogue: every error class declares its stable code, HTTP status and FHIR
issue type, and the REST and FHIR renderers both answer with them."""

from __future__ import annotations

import importlib
import json
import pkgutil

import pytest

import api
import terminology
from api.errors import _render
from api.outcome import render_fhir_error
from terminology.errors import ConcordanceError

ISSUE_TYPES = {
    "invalid", "structure", "required", "value", "invariant", "security", "login", "unknown", "expired",
    "forbidden", "suppressed", "processing", "not-supported", "duplicate", "multiple-matches", "not-found",
    "deleted", "too-long", "code-invalid", "extension", "too-costly", "business-rule", "conflict",
    "transient", "lock-error", "no-store", "exception", "timeout", "incomplete", "throttled", "informational",
}  # fmt: skip
"""The FHIR R4 IssueType codes (http://hl7.org/fhir/issue-type)."""


def every_error_class() -> list[type[ConcordanceError]]:
    for package in (terminology, api):
        for module in pkgutil.walk_packages(package.__path__, f"{package.__name__}."):
            if not module.name.endswith("__main__") and ".migrations" not in module.name:
                importlib.import_module(module.name)
    found, pending = [], [ConcordanceError]
    while pending:
        kind = pending.pop()
        found.append(kind)
        pending.extend(kind.__subclasses__())
    return sorted(set(found), key=lambda k: f"{k.__module__}.{k.__name__}")


CLASSES = every_error_class()


def test_the_catalogue_covers_every_error() -> None:
    assert len(CLASSES) >= 30


@pytest.mark.parametrize("kind", CLASSES, ids=lambda k: k.__name__)
def test_each_error_declares_its_code_status_and_issue(kind: type[ConcordanceError]) -> None:
    assert kind.code and kind.code == kind.code.lower() and " " not in kind.code
    assert 400 <= kind.http_status < 600
    assert kind.fhir_issue in ISSUE_TYPES


@pytest.mark.parametrize(
    "kind", [k for k in CLASSES if k.__init__ is ConcordanceError.__init__], ids=lambda k: k.__name__
)
def test_both_renderers_read_the_catalogue(kind: type[ConcordanceError]) -> None:
    error = kind("what went wrong")
    rest, fhir = _render(error), render_fhir_error(error)
    assert rest.status_code == fhir.status_code == kind.http_status
    assert json.loads(rest.body)["code"] == kind.code
    outcome = json.loads(fhir.body)
    assert outcome["issue"][0]["code"] == kind.fhir_issue
    assert outcome["issue"][0]["details"]["text"] == "what went wrong"
