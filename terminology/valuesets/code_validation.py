"""``CodeSystem/$validate-code``: is this code (and its display) right in this code system?

The answer follows the FHIR operation and the reference servers' conventions, because
integration engines compare them: ``result``, ``message`` (the errors and warnings a user
should read), the code's ``display``, and the issues as an OperationOutcome whose
``expression`` points at the input that was wrong (``code``, ``Coding.code``,
``CodeableConcept.coding[0].display`` ...). A deprecated or inactive concept is valid
with a warning, as is a display the code system has withdrawn; a wrong display or an
unknown code is an error.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from terminology.errors import ConcordanceError
from terminology.valuesets.lookup import (
    INACTIVE_STATUSES,
    CodeSystemIndex,
    display_in,
    languages_asked,
    same_language,
)

TX_ISSUE_TYPE = "http://hl7.org/fhir/tools/CodeSystem/tx-issue-type"
MESSAGE_ID = "http://hl7.org/fhir/StructureDefinition/operationoutcome-message-id"
STANDARDS_STATUS = "http://hl7.org/fhir/StructureDefinition/structuredefinition-standards-status"
WITHDRAWN = {"withdrawn", "deprecated", "retired"}
SAID_IN_MESSAGE = ("invalid-display", "invalid-data")
"""Kinds of warning an answer's ``message`` repeats (a display or data to correct)."""


@dataclass(frozen=True, slots=True)
class Issue:
    """One finding, in the terms of an OperationOutcome issue."""

    severity: str
    code: str
    kind: str
    """The ``tx-issue-type`` code (``invalid-code``, ``invalid-display``, ``code-comment`` ...)."""
    text: str
    expression: str
    message_id: str

    def as_fhir(self) -> dict[str, Any]:
        issue: dict[str, Any] = {
            "extension": [{"url": MESSAGE_ID, "valueString": self.message_id}],
            "severity": self.severity,
            "code": self.code,
            "details": {"coding": [{"system": TX_ISSUE_TYPE, "code": self.kind}], "text": self.text},
        }
        if self.expression:  # a finding about the whole request points at no element
            issue["location"] = [self.expression]
            issue["expression"] = [self.expression]
        return issue


@dataclass(frozen=True, slots=True)
class Where:
    """Where the code came from in the request, for the issues' ``expression``."""

    prefix: str = ""
    """``""`` for the ``code`` / ``display`` parameters, ``Coding`` or ``CodeableConcept.coding[i]``."""

    def of(self, element: str) -> str:
        return f"{self.prefix}.{element}" if self.prefix else element

    @property
    def whole(self) -> str:
        return self.prefix or "code"


@dataclass(frozen=True, slots=True)
class Validation:
    """The outcome of one ``$validate-code``."""

    result: bool
    code: str
    system: str
    version: str | None = None
    display: str | None = None
    status: str | None = None
    inactive: bool = False
    unknown_system: bool = False
    issues: tuple[Issue, ...] = field(default_factory=tuple)
    caused_by: str | None = None
    """The missing ``url|version`` behind ``unknown_system`` (default: ``system``)."""
    in_fragment: bool = False
    """The code is unknown to a code system that is only a fragment: it may still be right."""
    unknown_parameter: str = "x-caused-by-unknown-system"
    """How the answer names the missing code system: ``x-caused-by-unknown-system`` when what
    was checked needed it, ``x-unknown-system`` when only the coding names it."""
    version_unread: bool = False
    """The version of the code system the value set draws on is missing: the code was checked
    against nothing (a CodeableConcept's answer then names no coding)."""
    normalized_code: str | None = None
    """The code as the code system writes it, when it was given in another case (a case
    insensitive code system)."""

    @property
    def message(self) -> str | None:
        """What a user should read: every error, wrong display, invalid data and concept warning
        (display comments are not, nor a value set's own deprecation of a concept),
        in alphabetical order as the reference servers give them, whatever order they were found in."""
        texts = [i.text for i in self.issues if i.severity == "error" or i.kind in SAID_IN_MESSAGE
                 or i.message_id.startswith("NO_VALID_DISPLAY_FOUND") or (i.kind == "code-comment"
                 and i.message_id != "CONCEPT_DEPRECATED_IN_VALUESET")]  # fmt: skip
        return "; ".join(sorted(texts)) or None

    def parameters(self) -> list[dict[str, Any]]:
        """The operation's output parameters, in the order the reference servers give them."""
        out: list[dict[str, Any]] = [{"name": "code", "valueCode": self.code}] if self.code else []
        if self.display is not None:
            out.append({"name": "display", "valueString": self.display})
        if self.inactive:
            out.append({"name": "inactive", "valueBoolean": True})
        if self.issues:
            outcome = {"resourceType": "OperationOutcome", "issue": [i.as_fhir() for i in self.issues]}
            out.append({"name": "issues", "resource": outcome})
        if self.message:
            out.append({"name": "message", "valueString": self.message})
        out.append({"name": "result", "valueBoolean": self.result})
        if self.status:
            out.append({"name": "status", "valueCode": self.status})
        if self.system:
            out.append({"name": "system", "valueUri": self.system})
        if self.version:
            out.append({"name": "version", "valueString": self.version})
        if self.normalized_code:
            out.append({"name": "normalized-code", "valueCode": self.normalized_code})
        if self.unknown_system:
            caused = self.caused_by or self.system
            out.append({"name": self.unknown_parameter, "valueCanonical": caused})
        return out


def _standards_status(element: dict[str, Any]) -> str | None:
    for extension in element.get("extension", []):
        if extension.get("url") == STANDARDS_STATUS:
            status: str | None = extension.get("valueCode")
            return status
    return None


def concept_status(node: dict[str, Any]) -> tuple[str | None, bool]:
    """The concept's status and whether it is inactive (``status`` / ``inactive`` properties
    or the standards-status extension)."""
    properties = {p.get("code"): p for p in node.get("property", [])}
    status = properties.get("status", {}).get("valueCode") or _standards_status(node)
    inactive = properties.get("inactive", {}).get("valueBoolean") is True or status in INACTIVE_STATUSES - {
        "deprecated"
    }
    return status, inactive


class InvalidDisplayLanguageError(ConcordanceError):
    """``displayLanguage`` (or the Accept-Language it stands for) is no language range."""

    code = "invalid-display-language"
    http_status = 400
    fhir_issue = "processing"
    tx_issue = "invalid-display"
    message_id = "INVALID_DISPLAY_NAME"


LANGUAGE_RANGE = re.compile(r"^(\*|[A-Za-z]{1,8}(-[A-Za-z0-9]{1,8})*)$")


def checked_languages(asked: str | None) -> str | None:
    """``asked`` (Accept-Language style: ``fr, en;q=0.5``) when every range is a language tag.

    >>> checked_languages("fr-CA, *;q=0.1")
    'fr-CA, *;q=0.1'
    >>> checked_languages("-")
    Traceback (most recent call last):
    ...
    terminology.valuesets.code_validation.InvalidDisplayLanguageError: Invalid displayLanguage: '-'
    """
    for item in str(asked or "").split(","):
        tag = item.partition(";")[0].strip()
        if asked and not LANGUAGE_RANGE.match(tag):
            raise InvalidDisplayLanguageError(f"Invalid displayLanguage: '{tag}'")
    return asked


@dataclass(frozen=True, slots=True)
class ValidationOptions:
    """What a ``$validate-code`` request asks checked: displays in which languages
    (``displayLanguage``, Accept-Language style), a wrong display only a warning
    (``lenient-display-validation``), membership alone (``valueset-membership-only``: the code
    system's own rules unchecked), active concepts only (``activeOnly``), selectable ones only
    (``abstract=false``)."""

    language: str | None = None
    lenient: bool = False
    membership_only: bool = False
    active_only: bool = False
    abstract_allowed: bool = True
    """``abstract=false``: a concept that is abstract (notSelectable) is not valid here."""


def _differing_by_case(system: CodeSystemIndex, code: str) -> dict[str, Any] | None:
    """The concept ``code`` names in another case, when the code system says case does not matter."""
    if system.resource.get("caseSensitive") is not False:
        return None
    folded: dict[str, str] = system.memo.get("casefolded") or system.memo.setdefault(
        "casefolded", {known.casefold(): known for known in system.concepts}
    )
    known = folded.get(code.casefold())
    return system.concepts[known] if known is not None else None


def _inactive_status(status: str | None) -> str:
    """``retired and inactive``: the status the code system gives, and what it means here."""
    return f"{status} and inactive" if status and status != "inactive" else "inactive"


def _names(system: CodeSystemIndex, node: dict[str, Any]) -> list[tuple[str, str | None]]:
    """The concept's current names with their language (the display in the code system's)."""
    names = [(str(node["display"]), system.resource.get("language"))] if node.get("display") else []
    names += [
        (str(d["value"]), d.get("language"))
        for d in node.get("designation", [])
        if d.get("value") and _standards_status(d) not in WITHDRAWN
    ]
    return names


def _choices(names: list[tuple[str, str | None]]) -> str:
    shown = [f"'{value}'" + (f" ({language})" if language else "") for value, language in names]
    if len(shown) == 1:
        return f"Valid display is {shown[0]}"
    return f"Valid display is one of {len(shown)} choices: " + " or ".join(shown)


def _display_issue(
    system: CodeSystemIndex, node: dict[str, Any], display: str, where: Where, rules: ValidationOptions
) -> Issue | None:
    """None when ``display`` is one of the concept's current names in the languages asked
    (any language when none is asked; a name of no stated language fits every one)."""
    names = _names(system, node)
    tags = [tag for tag in languages_asked(rules.language) if tag != "*"]
    fitting = [
        (v, lang)
        for v, lang in names
        if not tags or lang is None or any(same_language(lang, t) for t in tags)
    ]
    if display in [value for value, _ in fitting]:
        return None
    code, asked = node["code"], ", ".join(tags) or "--"
    designations = node.get("designation", [])
    withdrawn = [d for d in designations if d.get("value") == display and _standards_status(d) in WITHDRAWN]
    if withdrawn:
        valid = " or ".join(f'"{value}"' for value, _ in names)
        return Issue(
            "warning", "invalid", "display-comment",
            f"'{display}' is no longer considered a correct display for code '{code}' (status = deprecated). "
            f"The correct display is one of {valid}.",
            where.of("display"), "INACTIVE_DISPLAY_FOUND",
        )  # fmt: skip
    if not fitting and display in [value for value, _ in names]:
        return Issue(
            "information", "invalid", "invalid-display",
            f"There are no valid display names found for the code {system.url}#{code} for language(s) "
            f"'{asked}'. The display is '{display}' which is a valid display for the default language",
            where.of("display"), "NO_VALID_DISPLAY_FOUND_NONE_FOR_LANG_OK",
        )  # fmt: skip
    severity = "warning" if rules.lenient else "error"
    if not fitting:
        return Issue(
            severity, "invalid", "invalid-display",
            f"Wrong Display Name '{display}' for {system.url}#{code}. There are no valid display names found "
            f"for language(s) '{asked}'. Default display is '{node.get('display', '')}'",
            where.of("display"), "NO_VALID_DISPLAY_FOUND_NONE_FOR_LANG_ERR",
        )  # fmt: skip
    spaced = " ".join(display.split()) in [" ".join(value.split()) for value, _ in fitting]
    return Issue(
        severity, "invalid", "invalid-display",
        f"Wrong Display Name '{display}' for {system.url}#{code}. {_choices(fitting)}"
        f" (for the language(s) '{asked}')",
        where.of("display"),
        "Display_Name_WS_for__should_be_one_of__instead_of" if spaced  # only the spaces differ
        else "Display_Name_for__should_be_one_of__instead_of",
    )  # fmt: skip


def validate_code(
    system: CodeSystemIndex,
    code: str,
    *,
    display: str | None = None,
    where: Where = Where(),
    rules: ValidationOptions = ValidationOptions(),
) -> Validation:
    """Check ``code`` (and ``display`` when given) against one code system version.

    >>> cs = CodeSystemIndex({"url": "urn:x", "version": "1", "concept": [
    ...     {"code": "a", "display": "Alpha"},
    ...     {"code": "b", "display": "Beta", "property": [{"code": "status", "valueCode": "retired"}]}]})
    >>> validate_code(cs, "a", display="Alpha").result
    True
    >>> validate_code(cs, "z").message
    "Unknown code 'z' in the CodeSystem 'urn:x' version '1'"
    >>> wrong = validate_code(cs, "a", display="Alfa")
    >>> wrong.result, wrong.issues[0].expression
    (False, 'display')
    >>> retired = validate_code(cs, "b")
    >>> retired.result, retired.inactive, retired.status
    (True, True, 'retired')
    """
    if system.resource.get("content") == "supplement":
        text = f"CodeSystem {system.canonical} is a supplement, so can't be used as a value in Coding.system"
        issue = Issue(
            "error", "invalid", "invalid-data", text, "Coding.system", "CODESYSTEM_CS_NO_SUPPLEMENT"
        )
        return Validation(False, code, system.url, issues=(issue,), unknown_system=True)
    node = system.concepts.get(code) or _differing_by_case(system, code)
    if node is None and system.resource.get("content") == "fragment":
        text = (
            f"Unknown Code '{code}' in the CodeSystem '{system.url}' version '{system.version}' - note that"
            " the code system is labeled as a fragment, so the code may be valid in some other fragment"
        )
        issue = Issue(
            "warning", "code-invalid", "invalid-code", text, where.of("code"), "UNKNOWN_CODE_IN_FRAGMENT"
        )
        return Validation(True, code, system.url, system.version, issues=(issue,), in_fragment=True)
    if node is None:
        in_version = f" version '{system.version}'" if system.version else ""
        text = f"Unknown code '{code}' in the CodeSystem '{system.url}'{in_version}"
        issue = Issue(
            "error", "code-invalid", "invalid-code", text, where.of("code"), "Unknown_Code_in_Version"
        )
        return Validation(False, code, system.url, system.version, issues=(issue,))
    issues: list[Issue] = []
    normalized = node["code"] if node["code"] != code else None
    if normalized:
        issues.append(Issue(
            "information", "business-rule", "code-rule",
            f"The code '{code}' differs from the correct code '{normalized}' by case. Although the code"
            f" system '{system.canonical}' is case insensitive, implementers are strongly encouraged to use"
            " the correct case anyway",
            where.of("code"), "CODE_CASE_DIFFERENCE",
        ))  # fmt: skip
    status, inactive = concept_status(node)
    if status == "deprecated":
        issues.append(Issue(
            "warning", "business-rule", "code-comment",
            f"The concept '{code}' is deprecated and its use should be reviewed",
            where.of("code"), "DEPRECATED_CONCEPT_FOUND",
        ))  # fmt: skip
    elif inactive:
        issues.append(Issue(
            "warning", "business-rule", "code-comment",
            f"The concept '{code}' has a status of {_inactive_status(status)} and its use should be reviewed",
            where.whole, "INACTIVE_CONCEPT_FOUND",
        ))  # fmt: skip
    if display is not None:
        found = _display_issue(system, node, display, where, rules)
        if found is not None:
            issues.append(found)
    return Validation(
        result=not any(i.severity == "error" for i in issues),
        code=code,
        system=system.url,
        version=system.version,
        display=display_in(node, system.resource.get("language"), rules.language) or node.get("display"),
        status=status if inactive or status == "deprecated" else None,  # a status that warns
        inactive=inactive,
        issues=tuple(issues),
        normalized_code=normalized,
    )


def unknown_code_system(url: str, version: str | None, known_versions: list[str], code: str) -> Validation:
    """The answer when the code system (or the asked version) is not known here."""
    asked = f"'{url}' version '{version}'" if version else f"'{url}'"
    text = f"A definition for CodeSystem {asked} could not be found, so the code cannot be validated"
    if version and known_versions:
        text += ". Valid versions: " + " or ".join(sorted(known_versions))
    issue = Issue("error", "not-found", "not-found", text, "system", "UNKNOWN_CODESYSTEM")
    return Validation(False, code, url, version, issues=(issue,), unknown_system=True)
