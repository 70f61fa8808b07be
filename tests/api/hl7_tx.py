"""The HL7 terminology ecosystem test cases (``../shared/hl7-tx-ecosystem-tests``) and the
reference runner's comparison rules, for an R4 server."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from tests.conftest import FIXTURES

SUITE = FIXTURES / "hl7_tx_ecosystem"
"""The files of the general-mode cases, copied with their licence."""
OPERATION_PATH = {
    "translate": "/fhir/ConceptMap/$translate",
    "lookup": "/fhir/CodeSystem/$lookup",
    "cs-validate-code": "/fhir/CodeSystem/$validate-code",
    "validate-code": "/fhir/ValueSet/$validate-code",
    "expand": "/fhir/ValueSet/$expand",
}
REQUIRED = ("translate", "lookup", "cs-validate-code")
"""Operations whose every general-mode case must pass; the others are reported."""
REPORTED = ("validate-code", "expand")
PLACEHOLDERS = {
    "$$": r"(?s).*",  # anything
    "$string$": r".+",
    "$uuid$": r"(urn:uuid:)?[0-9a-fA-F-]{36}",  # a UUID, bare or as the URI an identifier holds
    "$instant$": r"\d{4}-\d\d-\d\dT.+",
    "$id$": r"[A-Za-z0-9\-.]{1,64}",
}


def cases(operation: str, mode: str = "general") -> list[dict[str, Any]]:
    listed = json.loads((SUITE / "test-cases.json").read_text(encoding="utf-8-sig"))
    found = []
    for suite in listed["suites"]:
        if suite.get("mode", "general") != mode:
            continue
        for test in suite["tests"]:
            if test.get("operation") == operation and test.get("mode", "general") == mode:
                found.append({**test, "setup": suite.get("setup", []), "suite": suite["name"]})
    return found


def request_body(case: dict[str, Any]) -> dict[str, Any]:
    """The test's Parameters, with the suite's resources as ``tx-resource`` (as the runner sends)."""
    body = json.loads((SUITE / case["request"]).read_text(encoding="utf-8-sig"))
    resources = [json.loads((SUITE / name).read_text(encoding="utf-8-sig")) for name in case["setup"]]
    body["parameter"] = [{"name": "tx-resource", "resource": r} for r in resources] + body.get(
        "parameter", []
    )
    if case["operation"] in ("validate-code", "expand", "cs-validate-code"):
        # The reference runner adds the case's profile (else parameters-default.json) to the
        # request: the version rules of the "version" suite come that way.
        profile = json.loads(
            (SUITE / case.get("profile", "parameters-default.json")).read_text(encoding="utf-8-sig")
        )
        body["parameter"] += profile.get("parameter", [])
    return body


def request_headers(case: dict[str, Any]) -> dict[str, str]:
    """The HTTP headers the reference runner sets for the case (its ``Accept-Language``)."""
    return {"Accept-Language": case["Accept-Language"]} if case.get("Accept-Language") else {}


def expected(case: dict[str, Any]) -> Any:
    return json.loads((SUITE / case["response"]).read_text(encoding="utf-8-sig"))


EXPANSION_PROPERTY = "http://hl7.org/fhir/5.0/StructureDefinition/extension-ValueSet.expansion.property"
CONTAINS_PROPERTY = (
    "http://hl7.org/fhir/5.0/StructureDefinition/extension-ValueSet.expansion.contains.property"
)


def as_compared(answer: Any) -> Any:
    """The answer as the reference runner compares it (its ``TxTesterScrubbers``): converted
    to R5, without ``text`` and ``meta`` (``meta`` alone for Parameters). Its removal of
    extensions outside a list is left out: that is its loose mode, and the expected files
    carry extensions the list lacks (``valueset-unclosed`` among them), so they are compared
    as its tight mode does."""
    converted = as_r5(answer)
    if isinstance(converted, dict) and converted.get("resourceType") in ("ValueSet", "OperationOutcome"):
        return {k: v for k, v in converted.items() if k not in ("text", "meta")}
    if isinstance(converted, dict) and converted.get("resourceType") == "Parameters":
        return {k: v for k, v in converted.items() if k != "meta"}
    return converted


def as_r5(answer: Any) -> Any:
    """The answer as the reference runner reads it: as R4, converted to R5 (the expected
    files are R5), which turns the cross-version extensions back into ``expansion.property``
    and ``contains.property``."""
    if not isinstance(answer, dict) or answer.get("resourceType") != "ValueSet" or "expansion" not in answer:
        return answer
    expansion = dict(answer["expansion"])
    declared, others = _split(expansion, EXPANSION_PROPERTY)
    if declared:
        expansion["property"] = [_parts(e) for e in declared]
    _keep_extensions(expansion, others)
    if "contains" in expansion:
        expansion["contains"] = [_contains_as_r5(entry) for entry in expansion["contains"]]
    return {**answer, "expansion": expansion}


def _contains_as_r5(entry: dict[str, Any]) -> dict[str, Any]:
    entry = dict(entry)
    values, others = _split(entry, CONTAINS_PROPERTY)
    _keep_extensions(entry, others)
    if values:
        entry["property"] = [_parts(e) for e in values]
    if "contains" in entry:
        entry["contains"] = [_contains_as_r5(child) for child in entry["contains"]]
    return entry


def _split(element: dict[str, Any], url: str) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    extensions = element.get("extension", [])
    return [e for e in extensions if e.get("url") == url], [e for e in extensions if e.get("url") != url]


def _keep_extensions(element: dict[str, Any], extensions: list[dict[str, Any]]) -> None:
    if extensions:
        element["extension"] = extensions
    else:
        element.pop("extension", None)


def _parts(extension: dict[str, Any]) -> dict[str, Any]:
    """``{"url": "code", "valueCode": "x"}, {"url": "value", "valueString": "y"}`` as
    ``{"code": "x", "valueString": "y"}``; ``uri`` the same way."""
    element: dict[str, Any] = {}
    for part in extension.get("extension", []):
        value = next((v for k, v in part.items() if k.startswith("value")), None)
        if part.get("url") == "value":
            element.update({k: v for k, v in part.items() if k.startswith("value")})
        elif part.get("url") in ("code", "uri") and value is not None:
            element[part["url"]] = value
    return element


def _optional(node: Any, version: int = 4) -> bool:
    if not isinstance(node, dict) or "$optional$" not in node:
        return False
    flag = node["$optional$"]
    if flag is True:
        return True
    # "version:N": optional when testing FHIR version N; "!server": optional for other servers.
    return isinstance(flag, str) and (flag == f"version:{version}" or flag.startswith("!"))


def _clean(node: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in node.items() if not k.startswith("$")}


def differences(want: Any, got: Any, where: str = "") -> list[str]:
    """What separates the server's answer from the expected one (empty when they agree)."""
    if isinstance(want, str) and isinstance(got, str):
        if want.startswith("$external") or want in ("$optional$",):
            return []
        if want.startswith("$fragments:") and want.endswith("$"):  # every fragment, in any case
            missing = [f for f in want[len("$fragments:") : -1].split("|") if f.lower() not in got.lower()]
            return [f"{where}: {got!r} lacks {missing}"] if missing else []
        if want.startswith("$choice:") and want.endswith("$"):
            options = want[len("$choice:") : -1].split("|")
            return [] if got in options else [f"{where}: {got!r} is none of {options}"]
        if want in PLACEHOLDERS:
            return [] if re.fullmatch(PLACEHOLDERS[want], got) else [f"{where}: {got!r} is not {want}"]
        return [] if want == got else [f"{where}: expected {want!r}, got {got!r}"]
    if isinstance(want, dict) and isinstance(got, dict):
        problems = []
        optional = set(want.get("$optional-properties$", []))
        for key, value in _clean(want).items():
            if key not in got:
                all_optional = isinstance(value, list) and all(_optional(item) for item in value)
                if key not in optional and not _optional(value) and not all_optional:
                    problems.append(f"{where}.{key}: missing")
                continue
            problems += differences(value, got[key], f"{where}.{key}")
        problems += [f"{where}.{key}: not expected" for key in got if key not in want and key != "id"]
        return problems
    if isinstance(want, list) and isinstance(got, list):
        unused = list(range(len(got)))
        problems = []
        for number, item in enumerate(want):
            hit = next((i for i in unused if not differences(item, got[i], f"{where}[{i}]")), None)
            if hit is None:
                if not _optional(item):
                    problems.append(
                        f"{where}[{number}]: no match for {json.dumps(_clean(item) if isinstance(item, dict) else item)[:200]}"
                    )
            else:
                unused.remove(hit)
        problems += [f"{where}[{i}]: not expected {json.dumps(got[i])[:200]}" for i in unused]
        return problems
    return [] if want == got else [f"{where}: expected {want!r}, got {got!r}"]


def suite_present() -> bool:
    return (SUITE / "test-cases.json").exists()


def relative(path: Path) -> str:
    return str(path.relative_to(SUITE))
