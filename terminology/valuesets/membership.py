"""ValueSet ``$validate-code``: is a coding (or one of a concept's codings) in the value
set, and what the reference servers say when it is not."""

from __future__ import annotations

import re
from dataclasses import replace
from typing import Any

from terminology.valuesets.code_validation import (
    STANDARDS_STATUS,
    Issue,
    Validation,
    ValidationOptions,
    Where,
    validate_code,
)
from terminology.valuesets.errors import (
    InvalidValueSetError,
    UnknownCodeSystemError,
    UnknownValueSetError,
    VersionCheckError,
)
from terminology.valuesets.expansion import compose_parameter, expansion_members, listed_concepts
from terminology.valuesets.lookup import (
    CodeSystemIndex,
)
from terminology.valuesets.members import Member
from terminology.valuesets.resolution import Terminologies, canonical_of
from terminology.versions import version_key


def _version_in(members: list[Member], system_url: str, coding: dict[str, Any]) -> str | None:
    """The version of ``system_url`` the value set drew the code from (a coding without a
    version is read in the version the value set pins), None when it does not say. A value set
    drawing on several versions reads a coding in the version it names, else in the version
    whose display it gives."""
    code, given = str(coding.get("code")), coding.get("version")
    drawn = {m.version for m in members if m.system == system_url}
    if given and given in drawn and len(drawn) > 1:
        return str(given)
    having = [m for m in members if m.system == system_url and m.code == code]
    versions = {m.version for m in having}
    if len(versions) > 1 and coding.get("display"):
        named = {m.version for m in having if m.display == coding["display"]}
        versions = named if len(named) == 1 else versions
    if not versions:
        versions = drawn
    return next(iter(versions)) if len(versions) == 1 else None


def _unknown_version(
    value_set: dict[str, Any], error: UnknownCodeSystemError, terms: Terminologies, coding: dict[str, Any],
    where: Where,
) -> Validation:  # fmt: skip
    """The value set draws on a code system version nobody has: the code cannot be
    validated (a ``result=false`` answer naming it, not a refusal of the request). The answer
    names the version the request meant (the coding's, a version rule's, else the latest), and
    a coding version other than the include's is a mismatch too."""
    text = str(error).replace("value set cannot be expanded", "code cannot be validated")
    system_url, code = coding.get("system"), str(coding.get("code"))
    missing = error.system or str(system_url or "")
    url, _, stated = missing.partition("|")
    url = system_url or url
    missing_id = UNKNOWN_VERSION if "|" in missing else "UNKNOWN_CODESYSTEM"
    issues = [Issue("error", "not-found", "not-found", text, where.of("system"), missing_id)]
    given = str(coding["version"]) if coding.get("version") else None
    if given and stated and given != stated:
        issues.insert(0, _mismatch_issue(value_set, terms, url, stated, given, where))
    meant = _meant_version(terms, url, given)
    return Validation(
        False, code, url, meant.version if meant else None, issues=tuple(issues), unknown_system=True,
        caused_by=missing, display=meant.concepts.get(code, {}).get("display") if meant else None,
        version_unread=True,
    )  # fmt: skip


def _meant_version(terms: Terminologies, url: str, given: str | None) -> CodeSystemIndex | None:
    """The version of ``url`` a request means when the value set's own is missing: the
    coding's, else the one a version rule asks for, else the latest."""
    ruled = replace(terms.versions, wanted={}).apply(url, None)
    for wanted in [v for v in (given, ruled) if v] + [None]:
        try:
            return terms.code_system(url, wanted)
        except UnknownCodeSystemError:
            continue
    return None


ABSOLUTE_URI = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*:")
"""A uri with a scheme; anything else in ``Coding.system`` is a local reference."""


def _without_system(coding: dict[str, Any], canonical: str, where: Where) -> Validation:
    """A Coding with a code and no system: no defined meaning, so never in a value set."""
    text = (
        "Coding has no system. A code with no system has no defined meaning, and it cannot be validated."
        " A system should be provided"
    )
    warning = Issue(
        "warning", "invalid", "invalid-data", text, where.whole, "Coding_has_no_system__cannot_validate"
    )
    not_in = _not_in_value_set("", coding, canonical, where)
    return Validation(False, str(coding.get("code")), "", issues=(not_in, warning))


def _inferred_system(members: list[Member], code: str, canonical: str, where: Where) -> str | Validation:
    """The system of a ``code`` sent alone (``inferSystem``): the one system of the value set's
    concepts with that code; none or several is an answer saying so."""
    systems = sorted({m.system for m in members if m.code == code})
    if len(systems) == 1:
        return systems[0]
    text = f"The System URI could not be determined for the code '{code}' in the ValueSet '{canonical}'"
    if systems:
        text += f": value set expansion has multiple matches: [{', '.join(systems)}]"
        message_id = "Unable_to_resolve_system__value_set_has_multiple_matches"
    else:
        text += ": no concept of the value set has that code"
        message_id = "UNABLE_TO_INFER_CODESYSTEM"
    cannot = Issue("error", "not-found", "cannot-infer", text, where.of("code"), message_id)
    not_in = _not_in_value_set("", {"code": code}, canonical, where)
    return Validation(False, code, "", issues=(not_in, cannot))


def _deprecated_in_value_set(
    value_set: dict[str, Any], system_url: str, code: str, where: Where
) -> Issue | None:
    """A warning when the value set lists the concept as deprecated (``valueset-deprecated``,
    or a deprecated or withdrawn standards status on the listed concept): valid, to review."""
    listed = listed_concepts(value_set).get((system_url, code), {})
    for extension in listed.get("extension", ()):
        url, value = extension.get("url"), extension.get("valueBoolean", extension.get("valueCode"))
        if (url == VALUESET_DEPRECATED and value in (True, "true")) or (
            url == STANDARDS_STATUS and value in ("deprecated", "withdrawn")
        ):
            text = (
                f"The presence of the concept '{code}' in the system '{system_url}' in the value set"
                f" {canonical_of(value_set)} is marked with a status of deprecated and its use should"
                " be reviewed"
            )
            return Issue("warning", "business-rule", "code-comment", text, where.of("code"),
                         CONCEPT_DEPRECATED_IN_VALUE_SET)  # fmt: skip
    return None


VALUESET_DEPRECATED = "http://hl7.org/fhir/StructureDefinition/valueset-deprecated"
CONCEPT_DEPRECATED_IN_VALUE_SET = "CONCEPT_DEPRECATED_IN_VALUESET"


def _outside_value_set(
    terms: Terminologies, coding: dict[str, Any], canonical: str, where: Where
) -> Validation:
    """A coding whose code system the value set does not draw on and nobody here has: not in
    the value set, and its system unknown (or a local reference, or a value set's url), said
    as the reference servers say it."""
    url, code, version = str(coding.get("system")), str(coding.get("code")), coding.get("version")
    named = f"{url}|{version}" if version else url
    issues = [_not_in_value_set(named, coding, canonical, where)]
    if not ABSOLUTE_URI.match(url):
        text = f"{where.of('system')} must be an absolute reference, not a local reference"
        issues.append(Issue("error", "invalid", "invalid-data", text, where.of("system"),
                            "Terminology_TX_System_Relative"))  # fmt: skip
    try:
        terms.value_set(url)
    except (UnknownValueSetError, InvalidValueSetError):
        issues.append(_unknown_coding_system(terms, url, version, where))
    else:
        text = f"The Coding references a value set, not a code system ('{url}')"
        issues.append(Issue("error", "invalid", "invalid-data", text, where.of("system"),
                            "Terminology_TX_System_ValueSet2"))  # fmt: skip
        return Validation(False, code, url, issues=tuple(issues))
    return Validation(
        False, code, url, issues=tuple(issues), unknown_system=True, caused_by=url,
        unknown_parameter="x-unknown-system",
    )  # fmt: skip


def _unknown_coding_system(terms: Terminologies, url: str, version: str | None, where: Where) -> Issue:
    """A coding's code system nobody has (or not in the version it names)."""
    if not version:
        shown = url if ABSOLUTE_URI.match(url) else f"'{url}'"
        text = f"A definition for CodeSystem {shown} could not be found, so the code cannot be validated"
        return Issue("error", "not-found", "not-found", text, where.of("system"), "UNKNOWN_CODESYSTEM")
    known = sorted({cs.version for cs in terms.code_systems if cs.url == url and cs.version}, key=version_key)
    text = (
        f"A definition for CodeSystem '{url}' version '{version}' could not be found, so the code"
        " cannot be validated"
    )
    if known:
        text += ". Valid versions: " + " or ".join(known)
        return Issue("error", "not-found", "not-found", text, where.of("system"), UNKNOWN_VERSION)
    text += ". No versions of this code system are known"
    return Issue("error", "not-found", "not-found", text, where.of("system"), UNKNOWN_VERSION + "_NONE")


def _version_refused(
    value_set: dict[str, Any], terms: Terminologies, coding: dict[str, Any], error: VersionCheckError,
    where: Where,
) -> Validation:  # fmt: skip
    """``check-system-version`` refuses the version the value set draws on: the answer names
    that version's concept, and a coding naming another version is a mismatch as well."""
    code, given = str(coding.get("code")), coding.get("version")
    text = str(error)
    issues = [
        Issue("error", "exception", "version-error", text, where.of("version"), "VALUESET_VERSION_CHECK")
    ]
    if given and error.version and given != error.version:
        issues.append(_mismatch_issue(value_set, terms, error.system, error.version, str(given), where))
    try:
        display = terms.code_system(error.system, error.version).concepts.get(code, {}).get("display")
    except UnknownCodeSystemError:
        display = None
    return Validation(False, code, error.system, error.version, display=display, issues=tuple(issues))


def _stated_version(value_set: dict[str, Any], system_url: str) -> tuple[bool, str | None]:
    """Whether the value set includes ``system_url`` exactly once, and the version it states."""
    parts = [p for p in value_set.get("compose", {}).get("include", []) if p.get("system") == system_url]
    return (True, parts[0].get("version")) if len(parts) == 1 else (False, None)


def _mismatch_issue(
    value_set: dict[str, Any], terms: Terminologies, system_url: str, pinned: str, given: str, where: Where
) -> Issue:
    """Which version the include meant, said the way the reference servers say it: as the value
    set states it, as a request's version rule changed it, or as a versionless include read it."""
    single, stated = _stated_version(value_set, system_url)
    applied = replace(terms.versions, wanted={}).apply(system_url, stated) if single else pinned
    meant, message_id = f"version '{pinned}'", "VALUESET_VALUE_MISMATCH"
    if single and applied is not None and applied != stated:
        meant = f"version '{applied}' resulting from the version '{stated or ''}'"
        message_id = "VALUESET_VALUE_MISMATCH_CHANGED"
    elif single and stated is None:
        meant, message_id = (
            f"version '{pinned}' for the versionless include",
            "VALUESET_VALUE_MISMATCH_DEFAULT",
        )
    text = (
        f"The code system '{system_url}' {meant} in the ValueSet include is different to the"
        f" one in the value ('{given}')"
    )
    return Issue("error", "invalid", "vs-invalid", text, where.of("version"), message_id)


def _version_mismatch(
    value_set: dict[str, Any],
    terms: Terminologies,
    coding: dict[str, Any],
    system_url: str,
    pinned: str,
    where: Where,
) -> Validation:
    """The coding names one version of its code system, the value set draws on another: the
    code is not validated against a version the value set does not mean."""
    issues = [_mismatch_issue(value_set, terms, system_url, pinned, str(coding["version"]), where)]
    missing = _missing_version(terms, system_url, str(coding["version"]), where)
    if missing is not None:  # and the version the coding names does not exist either
        if issues[0].message_id.endswith("_DEFAULT"):  # a versionless include took any version:
            issues[0] = replace(issues[0], severity="warning")  # the unknown one is the error
        issues.append(missing[0])
    system = terms.code_system(system_url, pinned)
    node = system.concepts.get(str(coding.get("code")), {})
    code, display = str(coding.get("code")), node.get("display")
    return Validation(
        False, code, system_url, pinned, display=display, issues=tuple(issues),
        unknown_system=missing is not None, caused_by=missing[1] if missing else None,
    )  # fmt: skip


def _missing_version(terms: Terminologies, url: str, version: str, where: Where) -> tuple[Issue, str] | None:
    """The issue (and the ``url|version`` it is about) when no one has that version of the code system."""
    try:
        terms.code_system(url, version)
    except UnknownCodeSystemError as error:
        text = str(error).replace("value set cannot be expanded", "code cannot be validated")
        issue = Issue("error", "not-found", "not-found", text, where.of("system"), UNKNOWN_VERSION)
        return issue, error.system or f"{url}|{version}"
    return None


NOT_IN_VALUE_SET = "None_of_the_provided_codes_are_in_the_value_set_one"
UNKNOWN_VERSION = "UNKNOWN_CODESYSTEM_VERSION"
UNRESOLVED_VALUE_SET = "Unable_to_resolve_value_Set_"
SEVERITY_ORDER = {"fatal": 0, "error": 1, "warning": 2, "information": 3}


def _inactive_refused(
    checked: Validation, system_url: str, coding: dict[str, Any], canonical: str, where: Where
) -> Validation:
    """``activeOnly``: an inactive concept is valid in its code system but not in the value set."""
    text = f"The concept '{checked.code}' is valid but is not active"
    refused = Issue("error", "business-rule", "code-rule", text, where.of("code"), "STATUS_CODE_WARNING_CODE")
    not_in = _not_in_value_set(system_url, coding, canonical, where)
    return replace(checked, result=False, issues=(refused, not_in, *checked.issues))


def _abstract_refused(
    checked: Validation, system_url: str, coding: dict[str, Any], canonical: str, where: Where
) -> Validation:
    """``abstract=false``: an abstract concept is in the value set but not usable where asked."""
    text = f"Code '{system_url}#{checked.code}' is abstract, and not allowed in this context"
    refused = Issue(
        "error", "business-rule", "code-rule", text, where.of("code"), "ABSTRACT_CODE_NOT_ALLOWED"
    )
    not_in = _not_in_value_set(system_url, coding, canonical, where)
    return replace(checked, result=False, issues=(refused, not_in, *checked.issues))


def _not_in_value_set(system_url: str, coding: dict[str, Any], canonical: str, where: Where) -> Issue:
    if coding.get("version") and "|" not in system_url:  # the version the coding names
        system_url = f"{system_url}|{coding['version']}"
    shown = f"{system_url}#{coding.get('code')}" + (
        f" ('{coding['display']}')" if coding.get("display") else ""
    )
    text = f"The provided code '{shown}' was not found in the value set '{canonical or '(unidentified)'}'"
    return Issue("error", "code-invalid", "not-in-vs", text, where.of("code"), NOT_IN_VALUE_SET)


def _in_value_set(result: Validation) -> bool:
    return not result.unknown_system and not any(i.kind == "not-in-vs" for i in result.issues)


def _as_information(issue: Issue) -> Issue:
    """Within a CodeableConcept one coding outside the value set is not itself an error:
    the concept is judged on all its codings."""
    if issue.kind != "not-in-vs":
        return issue
    return Issue(
        "information", issue.code, "this-code-not-in-vs", issue.text, issue.expression, issue.message_id
    )


def concept_in_value_set(value_set: dict[str, Any], results: list[Validation]) -> Validation:
    """A CodeableConcept (``results``: one per coding, in order) is in the value set when
    one of its codings is; every coding's own findings still count, as the reference servers
    report them: a coding outside the value set is information, an unknown code an error,
    and when no coding is in the value set the concept as a whole is.

    The answer names the coding found in the value set (code, system, version, display);
    with none, it names no coding.
    """
    unresolved = next((i for r in results for i in r.issues if i.message_id == UNRESOLVED_VALUE_SET), None)
    if unresolved is not None:  # the value set itself cannot be read: nothing to say of the codings
        return Validation(False, "", "", issues=(unresolved,))
    issues = sorted(
        dict.fromkeys(_as_information(i) for result in results for i in result.issues),  # once each
        key=lambda issue: SEVERITY_ORDER.get(issue.severity, 9),
    )
    members = [result for result in results if _in_value_set(result)]
    chosen = next((r for r in members if r.result), members[0] if members else None)
    unknown = next((r for r in results if r.unknown_system), None)
    missing = next((r for r in results if any(i.message_id == UNKNOWN_VERSION for i in r.issues)), None)
    if chosen is None and missing is not None and len(results) == 1:
        # the one coding could not be checked (a version nobody has): its own answer stands,
        # naming the concept only when the value set's version of it was read
        read = not missing.version_unread
        return replace(missing, issues=tuple(issues), code=missing.code if read else "",
                       system=missing.system if read else "")  # fmt: skip
    if chosen is None:
        text = f"No valid coding was found for the value set '{canonical_of(value_set)}'"
        general = Issue("error", "code-invalid", "not-in-vs", text, "", "TX_GENERAL_CC_ERROR_MESSAGE")
        return Validation(
            False, "", "", issues=(general, *issues), unknown_system=unknown is not None,
            caused_by=(unknown.caused_by or unknown.system) if unknown else None,
            unknown_parameter=unknown.unknown_parameter if unknown else "x-caused-by-unknown-system",
        )  # fmt: skip
    return Validation(
        result=not any(i.severity in ("error", "fatal") for i in issues), code=chosen.code,
        system=chosen.system, version=chosen.version, display=chosen.display, status=chosen.status,
        inactive=chosen.inactive, issues=tuple(issues), unknown_system=unknown is not None,
        caused_by=(unknown.caused_by or unknown.system) if unknown else None,
        unknown_parameter=unknown.unknown_parameter if unknown else "x-caused-by-unknown-system",
    )  # fmt: skip


def validate_in_value_set(
    value_set: dict[str, Any],
    terms: Terminologies,
    coding: dict[str, Any],
    where: Where,
    rules: ValidationOptions | None = None,
) -> Validation:
    """Is the coding in the value set (and right in its code system)? The answer also says,
    as information, which of the code systems and value sets behind it are draft,
    experimental, deprecated or withdrawn. Displays are judged in the language the request
    asks, else the value set's own (its ``displayLanguage`` expansion parameter, its
    ``language``)."""
    rules = rules or ValidationOptions()
    if rules.language is None:  # the value set's own language, when the request names none
        own = compose_parameter(value_set, "displayLanguage") or value_set.get("language")
        rules = replace(rules, language=str(own)) if own else rules
    try:
        found = _membership(value_set, terms, coding, where, rules)
    except UnknownValueSetError as error:  # an imported value set nobody has
        issue = Issue("error", "not-found", "not-found", str(error), "", UNRESOLVED_VALUE_SET)
        return Validation(
            False, str(coding.get("code") or ""), str(coding.get("system") or ""), issues=(issue,)
        )
    terms.note_status(value_set, canonical_of(value_set), drafts=False)
    notes = tuple(i for i in terms.status_issues() if i not in found.issues)
    return replace(found, issues=notes + found.issues) if notes else found


def _membership(value_set: dict[str, Any], terms: Terminologies, coding: dict[str, Any], where: Where,
                rules: ValidationOptions) -> Validation:  # fmt: skip
    """The coding checked against the value set's members and its code system."""
    system_url, code = coding.get("system"), coding.get("code")
    canonical = canonical_of(value_set)
    if coding.get("version") and system_url:
        versions = replace(terms.versions, wanted={str(system_url): str(coding["version"])})
        terms = replace(terms, versions=versions)
    try:
        members = expansion_members(value_set, terms).members
    except UnknownCodeSystemError as error:  # the value set names a version nobody has
        if system_url and str(error.system).partition("|")[0] != system_url:  # and another system
            return _outside_value_set(terms, coding, canonical, where)
        return _unknown_version(value_set, error, terms, coding, where)
    except VersionCheckError as error:  # the request's check-system-version refuses it
        return _version_refused(value_set, terms, coding, error, where)
    if not system_url and where.prefix:  # a Coding without system means nothing to check
        return _without_system(coding, canonical, where)
    if not system_url:  # a code alone: the system of the value set's concept with that code
        inferred = _inferred_system(members, str(code), canonical, where)
        if isinstance(inferred, Validation):
            return inferred
        system_url = inferred
    pinned = _version_in(members, system_url, coding)
    if coding.get("version") and pinned and coding["version"] != pinned:
        return _version_mismatch(value_set, terms, coding, system_url, pinned, where)
    version = coding.get("version") or pinned
    try:
        system = terms.code_system(system_url, version)
    except UnknownCodeSystemError:  # a system the value set does not draw on, and nobody has
        return _outside_value_set(terms, coding, canonical, where)
    checked = validate_code(system, str(code), display=coding.get("display"), where=where, rules=rules)
    wanted = checked.normalized_code or code
    drawn = {m.version for m in members if m.system == system.url}
    member = any(  # of the version read, when the value set draws on several
        m.system == system.url and m.code == wanted and (len(drawn) < 2 or m.version == system.version)
        for m in members
    )
    if rules.membership_only:  # the code system's own findings are not asked for
        checked = replace(checked, result=member, issues=(), display=checked.display if member else None)
    if (
        member
        and not rules.abstract_allowed
        and any(m.abstract for m in members if m.system == system.url and m.code == wanted)
    ):
        return _abstract_refused(checked, system.url, coding, canonical, where)
    if member or checked.in_fragment:
        if rules.active_only and checked.inactive:
            return _inactive_refused(checked, system.url, coding, canonical, where)
        deprecated = _deprecated_in_value_set(value_set, system.url, str(wanted), where)
        return replace(checked, issues=(*checked.issues, deprecated)) if deprecated else checked
    if checked.inactive and (value_set.get("compose") or {}).get("inactive") is False:
        return _inactive_refused(checked, system.url, coding, canonical, where)  # the value set says so
    not_in = _not_in_value_set(system.url, coding, canonical, where)
    return Validation(
        result=False, code=str(code), system=system.url, version=system.version, display=checked.display,
        status=checked.status, inactive=checked.inactive, issues=(not_in, *checked.issues),
    )  # fmt: skip
