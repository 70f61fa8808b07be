"""ValueSet compose evaluation: filters, imports, excludes, paging, hierarchy, membership."""

from __future__ import annotations

import random
from typing import Any

import pytest

from terminology.valuesets.code_validation import ValidationOptions, Where
from terminology.valuesets.errors import InvalidValueSetError, UnknownCodeSystemError, UnknownValueSetError
from terminology.valuesets.expansion import expand
from terminology.valuesets.lookup import CodeSystemIndex
from terminology.valuesets.membership import validate_in_value_set
from terminology.valuesets.resolution import Terminologies

SYSTEM = CodeSystemIndex({"url": "urn:cs", "version": "2", "concept": [
    {"code": "A", "display": "Alpha", "property": [{"code": "kind", "valueCode": "x"}], "concept": [
        {"code": "A1", "display": "Alpha one", "concept": [{"code": "A1a", "display": "Alpha one a"}]},
        {"code": "A2", "display": "Alpha two", "property": [{"code": "status", "valueCode": "retired"}]}]},
    {"code": "B", "display": "Beta", "property": [{"code": "kind", "valueCode": "y"},
                                                  {"code": "notSelectable", "valueBoolean": True}]},
    {"code": "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaX", "display": "Trap"}]})  # fmt: skip


def codes(compose: dict[str, Any], **parameters: Any) -> list[str]:
    value_set = {"resourceType": "ValueSet", "url": "urn:vs", "compose": compose}
    expansion = expand(
        value_set, Terminologies([SYSTEM]), parameters={"excludeNested": True, **parameters}.items()
    )
    return [entry["code"] for entry in expansion["expansion"].get("contains", [])]


def including(*rules: dict[str, str]) -> dict[str, Any]:
    return {"include": [{"system": "urn:cs", "filter": list(rules)}]}


@pytest.mark.parametrize(
    ("rule", "expected"),
    [
        ({"property": "concept", "op": "is-a", "value": "A1"}, ["A1", "A1a"]),
        ({"property": "concept", "op": "descendent-of", "value": "A"}, ["A1", "A1a", "A2"]),
        ({"property": "concept", "op": "child-of", "value": "A"}, ["A1", "A2"]),
        ({"property": "concept", "op": "generalizes", "value": "A1a"}, ["A", "A1", "A1a"]),
        ({"property": "concept", "op": "is-not-a", "value": "A"}, ["B", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaX"]),
        ({"property": "code", "op": "in", "value": "B, A2"}, ["A2", "B"]),
        ({"property": "code", "op": "regex", "value": "A[0-9].*"}, ["A1", "A1a", "A2"]),
        ({"property": "kind", "op": "=", "value": "y"}, ["B"]),
        ({"property": "kind", "op": "exists", "value": "true"}, ["A", "B"]),
        ({"property": "display", "op": "regex", "value": "Alpha (one|two)"}, ["A1", "A2"]),
    ],
)  # fmt: skip
def test_filters(rule: dict[str, str], expected: list[str]) -> None:
    assert codes(including(rule)) == expected


def test_a_catastrophic_regex_answers_at_once() -> None:
    """RE2 runs in linear time: ``(a+)+`` against a long run of a's cannot stall a worker."""
    assert codes(including({"property": "code", "op": "regex", "value": "((a+)+)+"})) == []


def test_lists_excludes_imports_and_inactive() -> None:
    listed = {"include": [{"system": "urn:cs", "concept": [{"code": "B", "display": "Bêta"}, {"code": "A"},
                                                           {"code": "NOPE"}]}]}  # fmt: skip
    expansion = expand(
        {"url": "urn:l", "compose": listed}, Terminologies([SYSTEM]), parameters=[("excludeNested", True)]
    )
    contains = expansion["expansion"]["contains"]
    assert [(c["code"], c.get("display")) for c in contains] == [("B", "Bêta"), ("A", "Alpha")]
    assert contains[0]["abstract"] is True  # notSelectable
    excluding = {**including({"property": "concept", "op": "is-a", "value": "A"}),
                 "exclude": [{"system": "urn:cs", "concept": [{"code": "A1"}]}]}  # fmt: skip
    assert codes(excluding) == ["A", "A1a", "A2"]
    assert codes(excluding, activeOnly=True) == ["A", "A1a"]  # A2 is retired
    imported = {
        "url": "urn:imported",
        "compose": {"include": [{"system": "urn:cs", "concept": [{"code": "A1"}, {"code": "B"}]}]},
    }
    terms = Terminologies([SYSTEM], [imported])
    both = {"include": [{"system": "urn:cs", "filter": [{"property": "concept", "op": "is-a", "value": "A"}],
                         "valueSet": ["urn:imported"]}]}  # fmt: skip
    found = expand({"url": "urn:both", "compose": both}, terms, parameters=[("excludeNested", True)])
    assert [c["code"] for c in found["expansion"]["contains"]] == ["A1"]  # the intersection


def test_paging_hierarchy_and_echoed_parameters() -> None:
    whole = {"include": [{"system": "urn:cs"}]}
    nested = expand({"url": "urn:w", "compose": whole}, Terminologies([SYSTEM]))["expansion"]
    assert [c["code"] for c in nested["contains"]] == ["A", "B", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaX"]
    assert [c["code"] for c in nested["contains"][0]["contains"]] == ["A1", "A2"]
    assert nested["total"] == 6 and {"name": "used-codesystem", "valueUri": "urn:cs|2"} in nested["parameter"]
    page = expand(
        {"url": "urn:w", "compose": whole}, Terminologies([SYSTEM]), parameters=[("count", 2), ("offset", 1)]
    )
    assert page["expansion"]["offset"] == 1 and [c["code"] for c in page["expansion"]["contains"]] == [
        "A1",
        "A1a",
    ]
    assert {"name": "count", "valueInteger": 2} in page["expansion"]["parameter"]


def test_errors_name_what_is_missing() -> None:
    with pytest.raises(UnknownCodeSystemError, match="urn:other"):
        codes({"include": [{"system": "urn:other"}]})
    with pytest.raises(UnknownCodeSystemError, match="Valid versions: 2"):
        codes({"include": [{"system": "urn:cs", "version": "9"}]})
    with pytest.raises(UnknownValueSetError, match="urn:missing"):
        codes({"include": [{"valueSet": ["urn:missing"]}]})
    with pytest.raises(InvalidValueSetError, match="has no value"):
        codes(including({"property": "concept", "op": "is-a"}))
    with pytest.raises(InvalidValueSetError, match="not valid"):
        codes(including({"property": "code", "op": "regex", "value": "(unclosed"}))


def test_membership_and_code_system_checks_together() -> None:
    value_set = {
        "url": "urn:vs",
        "version": "1",
        "compose": including({"property": "concept", "op": "is-a", "value": "A"}),
    }
    terms = Terminologies([SYSTEM])
    inside = validate_in_value_set(value_set, terms, {"system": "urn:cs", "code": "A1"}, Where())
    assert inside.result and inside.display == "Alpha one"
    outside = validate_in_value_set(value_set, terms, {"system": "urn:cs", "code": "B"}, Where("Coding"))
    assert not outside.result and outside.issues[0].kind == "not-in-vs"
    assert outside.issues[0].text == "The provided code 'urn:cs#B' was not found in the value set 'urn:vs|1'"
    unknown = validate_in_value_set(value_set, terms, {"system": "urn:cs", "code": "Z"}, Where())
    assert [i.kind for i in unknown.issues] == ["not-in-vs", "invalid-code"]
    implied = validate_in_value_set(value_set, terms, {"code": "A2"}, Where())  # the only system
    assert implied.result and implied.inactive


def versioned(version: str) -> CodeSystemIndex:
    return CodeSystemIndex({"url": "urn:v", "version": version, "concept": [
        {"code": "c", "display": f"C ({version})"}]})  # fmt: skip


def check(include_version: str, coding: dict[str, Any]) -> Any:
    terms = Terminologies([versioned("1.0.0"), versioned("1.2.0"), versioned("2.0.0")])
    value_set = {"resourceType": "ValueSet", "url": "urn:vs", "version": "1",
                 "compose": {"include": [{"system": "urn:v", "version": include_version}]}}  # fmt: skip
    return validate_in_value_set(value_set, terms, coding, Where("Coding"))


def test_a_coding_without_version_is_read_in_the_version_the_value_set_pins() -> None:
    pinned = check("1.0.0", {"system": "urn:v", "code": "c"})
    assert pinned.result and (pinned.version, pinned.display) == ("1.0.0", "C (1.0.0)")
    wildcard = check("1.x", {"system": "urn:v", "code": "c"})  # the latest 1.x
    assert wildcard.result and wildcard.version == "1.2.0"
    missing = check("1", {"system": "urn:v", "code": "c"})
    assert not missing.result and missing.unknown_system and missing.caused_by == "urn:v|1"
    assert missing.issues[0].message_id == "UNKNOWN_CODESYSTEM_VERSION"
    assert "version '1' could not be found, so the code cannot be validated" in missing.issues[0].text
    assert "Valid versions: 1.0.0 or 1.2.0 or 2.0.0" in missing.issues[0].text


def test_the_request_rules_code_system_versions() -> None:
    from terminology.valuesets.errors import VersionCheckError
    from terminology.valuesets.resolution import VersionRules

    terms = Terminologies([versioned("1.0.0"), versioned("1.2.0"), versioned("2.0.0")])
    free = {"resourceType": "ValueSet", "url": "urn:vs", "compose": {"include": [{"system": "urn:v"}]}}
    pinned = {"resourceType": "ValueSet", "url": "urn:vs",
              "compose": {"include": [{"system": "urn:v", "version": "1.2.0"}]}}  # fmt: skip

    def used(value_set: dict[str, Any], **rules: list[str]) -> list[str]:
        terms.versions = VersionRules.of(**rules)
        expansion = expand(value_set, terms)["expansion"]
        return [p["valueUri"] for p in expansion["parameter"] if p["name"] == "used-codesystem"]

    assert used(free) == ["urn:v|2.0.0"]
    assert used(free, system_version=["urn:v|1.0.0"]) == ["urn:v|1.0.0"]  # a default
    assert used(pinned, system_version=["urn:v|1.0.0"]) == ["urn:v|1.2.0"]  # the value set's wins
    assert used(pinned, force_system_version=["urn:v|1.0.x"]) == ["urn:v|1.0.0"]  # forced
    with pytest.raises(VersionCheckError, match=r"required to be '2\.x'"):
        used(pinned, check_system_version=["urn:v|2.x"])
    with pytest.raises(InvalidValueSetError, match=r"url\|version, not 'urn:v'"):
        VersionRules.of(system_version=["urn:v"])


def test_a_coding_of_another_version_than_the_value_set_draws_on_is_not_valid() -> None:
    other = check("1.2.0", {"system": "urn:v", "version": "1.0.0", "code": "c"})
    assert not other.result and (other.version, other.display) == ("1.2.0", "C (1.2.0)")
    assert other.issues[0].message_id == "VALUESET_VALUE_MISMATCH"
    assert other.issues[0].expression == "Coding.version"
    assert "version '1.2.0' in the ValueSet include is different to the one in the value ('1.0.0')" in (
        other.issues[0].text
    )
    assert check("1.x", {"system": "urn:v", "version": "1.2.0", "code": "c"}).result


def test_check_system_version_refuses_a_pinned_version_and_guides_a_versionless_include() -> None:
    from terminology.valuesets.resolution import VersionRules

    terms = Terminologies([versioned("1.0.0"), versioned("1.2.0")])
    terms.versions = VersionRules.of(check_system_version=["urn:v|1.0.x"])
    pinned = {"resourceType": "ValueSet", "url": "urn:vs",
              "compose": {"include": [{"system": "urn:v", "version": "1.2.0"}]}}  # fmt: skip
    refused = validate_in_value_set(pinned, terms, {"system": "urn:v", "code": "c"}, Where())
    assert not refused.result and refused.issues[0].message_id == "VALUESET_VERSION_CHECK"
    assert "The version '1.2.0' is not allowed" in refused.issues[0].text
    free = {"resourceType": "ValueSet", "url": "urn:vs", "compose": {"include": [{"system": "urn:v"}]}}
    guided = validate_in_value_set(free, terms, {"system": "urn:v", "code": "c"}, Where())
    assert guided.result and guided.version == "1.0.0"  # the latest version the check allows
    parameters = expand(free, terms)["expansion"]["parameter"]
    assert {"name": "check-system-version", "valueUri": "urn:v|1.0.x"} not in parameters  # not asked here
    echoed = expand(free, terms, parameters=[("check-system-version", "urn:v|1.0.x")])["expansion"]
    assert {"name": "check-system-version", "valueUri": "urn:v|1.0.x"} in echoed["parameter"]  # it decided


def test_a_coding_version_that_fits_a_wildcard_is_the_one_read() -> None:
    older = check("1.x", {"system": "urn:v", "version": "1.0.0", "code": "c"})
    assert older.result and (older.version, older.display) == ("1.0.0", "C (1.0.0)")


def test_a_coding_naming_a_version_nobody_has_says_so_besides_the_mismatch() -> None:
    unknown = check("1.2.0", {"system": "urn:v", "version": "9.9", "code": "c"})
    assert [i.message_id for i in unknown.issues] == ["VALUESET_VALUE_MISMATCH", "UNKNOWN_CODESYSTEM_VERSION"]
    assert unknown.unknown_system and unknown.caused_by == "urn:v|9.9"
    assert unknown.message is not None and unknown.message.startswith("A definition for CodeSystem")  # sorted


def test_a_compose_naming_two_versions_lists_each_versions_concepts() -> None:
    terms = Terminologies([versioned("1.0.0"), versioned("2.0.0")])
    both = {"resourceType": "ValueSet", "url": "urn:vs", "compose": {"include": [
        {"system": "urn:v", "version": "1.0.0"}, {"system": "urn:v", "version": "2.0.0"}]}}  # fmt: skip
    listed = expand(both, terms)["expansion"]["contains"]
    assert [(c["code"], c["version"], c["display"]) for c in listed] == [
        ("c", "1.0.0", "C (1.0.0)"), ("c", "2.0.0", "C (2.0.0)")]  # fmt: skip
    one = {"resourceType": "ValueSet", "url": "urn:vs", "compose": {"include": [{"system": "urn:v"}]}}
    assert "version" not in expand(one, terms)["expansion"]["contains"][0]  # one version: not said
    without_old = {"resourceType": "ValueSet", "url": "urn:vs", "compose": {
        "include": [{"system": "urn:v", "version": "1.0.0"}, {"system": "urn:v", "version": "2.0.0"}],
        "exclude": [{"system": "urn:v", "version": "1.0.0", "concept": [{"code": "c"}]}]}}  # fmt: skip
    assert [c["version"] for c in expand(without_old, terms)["expansion"]["contains"]] == ["2.0.0"]


def test_a_mismatch_says_how_the_include_came_to_its_version() -> None:
    from terminology.valuesets.resolution import VersionRules

    terms = Terminologies([versioned("1.0.0"), versioned("1.2.0")])
    free = {"resourceType": "ValueSet", "url": "urn:vs", "compose": {"include": [{"system": "urn:v"}]}}
    coding = {"system": "urn:v", "version": "1.0.0", "code": "c"}
    versionless = validate_in_value_set(free, terms, coding, Where("Coding")).issues[0]
    assert versionless.message_id == "VALUESET_VALUE_MISMATCH_DEFAULT"
    assert "version '1.2.0' for the versionless include" in versionless.text
    terms.versions = VersionRules.of(force_system_version=["urn:v|1.2.x"])
    forced = validate_in_value_set(free, terms, coding, Where("Coding")).issues[0]
    assert forced.message_id == "VALUESET_VALUE_MISMATCH_CHANGED"
    assert "version '1.2.x' resulting from the version ''" in forced.text


def test_the_expansion_says_which_value_sets_it_used_and_warns_of_unfinished_ones() -> None:
    draft = CodeSystemIndex({"url": "urn:d", "version": "1", "status": "draft", "concept": [{"code": "x"}]})
    withdrawn = {"resourceType": "ValueSet", "url": "urn:inner", "version": "2", "extension": [
        {"url": "http://hl7.org/fhir/StructureDefinition/structuredefinition-standards-status",
         "valueCode": "withdrawn"}], "compose": {"include": [{"system": "urn:d"}]}}  # fmt: skip
    outer = {"resourceType": "ValueSet", "url": "urn:outer", "status": "draft",
             "compose": {"include": [{"valueSet": ["urn:inner"]}]}}  # fmt: skip
    parameters = expand(outer, Terminologies([draft], value_sets=[withdrawn]))["expansion"]["parameter"]
    said = [(p["name"], p["valueUri"]) for p in parameters]
    assert ("used-valueset", "urn:inner|2") in said
    assert ("warning-withdrawn", "urn:inner|2") in said and ("warning-draft", "urn:d|1") in said
    assert not any(canonical == "urn:outer" for _, canonical in said)  # the one asked for is not warned of


def test_a_contained_value_set_is_imported_by_its_local_reference() -> None:
    outer = {"resourceType": "ValueSet", "status": "active",
             "contained": [{"resourceType": "ValueSet", "id": "part",
                            "compose": {"include": [{"system": "urn:cs", "concept": [{"code": "B"}]}]}}],
             "compose": {"include": [{"valueSet": ["#part"]}]}}  # fmt: skip
    expansion = expand(outer, Terminologies([SYSTEM]))["expansion"]
    assert [c["code"] for c in expansion["contains"]] == ["B"]
    assert not any(p["name"] == "used-valueset" for p in expansion["parameter"])
    outer["compose"] = {"include": [{"valueSet": ["#elsewhere"]}]}
    with pytest.raises(UnknownValueSetError, match="#elsewhere"):
        expand(outer, Terminologies([SYSTEM]))


def test_count_zero_asks_for_the_total_alone() -> None:
    value_set = {"resourceType": "ValueSet", "url": "urn:vs", "compose": including()}
    expansion = expand(value_set, Terminologies([SYSTEM]), parameters=[("count", 0)])["expansion"]
    assert expansion["total"] == 6 and "contains" not in expansion and "offset" not in expansion


def test_validation_says_which_resources_behind_it_are_unfinished_and_which_it_cannot_read() -> None:
    draft = CodeSystemIndex({"url": "urn:d", "version": "1", "status": "draft", "concept": [{"code": "x"}]})
    value_set = {"resourceType": "ValueSet", "url": "urn:vs", "compose": {"include": [{"system": "urn:d"}]}}
    found = validate_in_value_set(
        value_set, Terminologies([draft]), {"system": "urn:d", "code": "x"}, Where()
    )
    assert found.result and found.message is None  # information only
    assert [(i.severity, i.kind, i.text) for i in found.issues] == [
        ("information", "status-check", "Reference to draft CodeSystem urn:d|1")]  # fmt: skip
    broken = {
        "resourceType": "ValueSet",
        "url": "urn:vs",
        "compose": {"include": [{"valueSet": ["urn:gone"]}]},
    }
    unread = validate_in_value_set(broken, Terminologies([draft]), {"system": "urn:d", "code": "x"}, Where())
    assert not unread.result and unread.issues[0].message_id == "Unable_to_resolve_value_Set_"
    assert "urn:gone" in unread.issues[0].text


def test_a_case_insensitive_code_system_accepts_another_case_and_says_the_right_one() -> None:
    from terminology.valuesets.code_validation import validate_code

    loose = CodeSystemIndex({"url": "urn:ci", "version": "1", "caseSensitive": False,
                             "concept": [{"code": "code1", "display": "One"}]})  # fmt: skip
    found = validate_code(loose, "CODE1")
    assert found.result and found.normalized_code == "code1" and found.code == "CODE1"
    assert found.issues[0].message_id == "CODE_CASE_DIFFERENCE" and found.issues[0].severity == "information"
    assert {"name": "normalized-code", "valueCode": "code1"} in found.parameters()
    strict = CodeSystemIndex({"url": "urn:cs", "caseSensitive": True, "concept": [{"code": "code1"}]})
    assert not validate_code(strict, "CODE1").result
    value_set = {"resourceType": "ValueSet", "url": "urn:vs", "compose": {"include": [{"system": "urn:ci"}]}}
    assert validate_in_value_set(
        value_set, Terminologies([loose]), {"system": "urn:ci", "code": "Code1"}, Where()
    ).result


def test_display_findings_name_what_differs() -> None:
    from terminology.valuesets.code_validation import validate_code

    system = CodeSystemIndex({"url": "urn:s", "concept": [
        {"code": "r", "display": "Old one", "property": [{"code": "status", "valueCode": "retired"}]}]})  # fmt: skip
    retired = validate_code(system, "r")
    assert "has a status of retired and inactive" in retired.issues[0].text
    spaced = validate_code(system, "r", display="Old  one")
    assert spaced.issues[-1].message_id == "Display_Name_WS_for__should_be_one_of__instead_of"
    wrong = validate_code(system, "r", display="New one")
    assert wrong.issues[-1].message_id == "Display_Name_for__should_be_one_of__instead_of"


def test_options_ask_for_membership_alone_or_active_concepts_only() -> None:

    value_set = {"resourceType": "ValueSet", "url": "urn:vs", "compose": including()}
    terms = Terminologies([SYSTEM])
    wrong_display = {"system": "urn:cs", "code": "A", "display": "Not alpha"}
    assert not validate_in_value_set(value_set, terms, wrong_display, Where()).result
    only_member = validate_in_value_set(
        value_set, terms, wrong_display, Where(), ValidationOptions(membership_only=True)
    )
    assert only_member.result and only_member.issues == ()
    retired = {"system": "urn:cs", "code": "A2"}
    assert validate_in_value_set(value_set, terms, retired, Where()).result  # a warning only
    active = validate_in_value_set(value_set, terms, retired, Where(), ValidationOptions(active_only=True))
    assert not active.result
    assert [i.message_id for i in active.issues][:2] == [
        "STATUS_CODE_WARNING_CODE", "None_of_the_provided_codes_are_in_the_value_set_one"]  # fmt: skip


def test_an_unknown_code_of_a_fragment_may_be_right() -> None:
    fragment = CodeSystemIndex(
        {"url": "urn:f", "version": "1", "content": "fragment", "concept": [{"code": "a"}]}
    )
    value_set = {"resourceType": "ValueSet", "url": "urn:vs", "compose": {"include": [{"system": "urn:f"}]}}
    found = validate_in_value_set(
        value_set, Terminologies([fragment]), {"system": "urn:f", "code": "zz"}, Where()
    )
    assert found.result and found.issues[0].message_id == "UNKNOWN_CODE_IN_FRAGMENT"
    assert found.issues[0].severity == "warning"


def test_not_selectable_is_read_by_the_property_uri_the_code_system_declares() -> None:
    renamed = CodeSystemIndex({"url": "urn:r", "property": [
        {"code": "not-selectable", "uri": "http://hl7.org/fhir/concept-properties#notSelectable", "type": "boolean"}],
        "concept": [{"code": "g", "property": [{"code": "not-selectable", "valueBoolean": True}]}, {"code": "s"}]})  # fmt: skip
    value_set = {"resourceType": "ValueSet", "url": "urn:vs", "compose": {"include": [{"system": "urn:r"}]}}
    contains = expand(value_set, Terminologies([renamed]))["expansion"]["contains"]
    assert [(c["code"], c.get("abstract", False)) for c in contains] == [("g", True), ("s", False)]


def test_members_stay_out_of_the_garbage_collectors_way() -> None:
    """A stored version's members live as long as the process; were they to hold containers,
    every full collection would walk tens of thousands of them (type-ahead p99 showed it)."""
    import gc

    from terminology.valuesets.expansion import expansion_members

    value_set = {"resourceType": "ValueSet", "url": "urn:vs", "compose": including()}
    members = expansion_members(value_set, Terminologies([SYSTEM])).members
    assert all(m.searchable for m in members)  # the cached folded label is set, as in a search
    gc.collect()
    assert not any(gc.is_tracked(vars(m)) for m in members)


def test_default_valueset_version_pins_an_import_that_names_none() -> None:
    def inner(version: str, code: str) -> dict[str, Any]:
        return {"resourceType": "ValueSet", "url": "urn:inner", "version": version,
                "compose": {"include": [{"system": "urn:cs", "concept": [{"code": code}]}]}}  # fmt: skip

    outer = {
        "resourceType": "ValueSet",
        "url": "urn:outer",
        "compose": {"include": [{"valueSet": ["urn:inner"]}]},
    }
    terms = Terminologies([SYSTEM], value_sets=[inner("1", "A"), inner("2", "B")])
    assert [c["code"] for c in expand(outer, terms)["expansion"]["contains"]] == ["B"]  # the latest
    terms = Terminologies(
        [SYSTEM], value_sets=[inner("1", "A"), inner("2", "B")], value_set_versions={"urn:inner": "1"}
    )
    expansion = expand(outer, terms, parameters=[("default-valueset-version", "urn:inner|1")])["expansion"]
    assert [c["code"] for c in expansion["contains"]] == ["A"]
    assert {"name": "default-valueset-version", "valueUri": "urn:inner|1"} in expansion["parameter"]
    terms = Terminologies([SYSTEM], value_sets=[inner("1", "A")], value_set_versions={"urn:inner": "3"})
    with pytest.raises(UnknownValueSetError, match=r"urn:inner\|3") as refused:
        expand(outer, terms)
    assert refused.value.message_id == "VS_EXP_IMPORT_UNK_PINNED"


def test_a_missing_include_version_is_named_with_the_codings_own_version_and_their_mismatch() -> None:
    missing = check("1", {"system": "urn:v", "version": "1.0.0", "code": "c"})
    ids = [i.message_id for i in missing.issues]
    assert ids == ["VALUESET_VALUE_MISMATCH", "UNKNOWN_CODESYSTEM_VERSION"]
    assert (missing.version, missing.display, missing.caused_by) == ("1.0.0", "C (1.0.0)", "urn:v|1")
    versionless = check("1", {"system": "urn:v", "code": "c"})  # nothing asked: the latest is named
    assert versionless.version == "2.0.0" and len(versionless.issues) == 1


def test_a_versionless_include_differing_from_an_unknown_coding_version_only_warns_of_it() -> None:
    terms = Terminologies([versioned("1.0.0")])
    free = {"resourceType": "ValueSet", "url": "urn:vs", "compose": {"include": [{"system": "urn:v"}]}}
    found = validate_in_value_set(free, terms, {"system": "urn:v", "version": "3", "code": "c"}, Where())
    assert [(i.severity, i.message_id) for i in found.issues] == [
        ("warning", "VALUESET_VALUE_MISMATCH_DEFAULT"),
        ("error", "UNKNOWN_CODESYSTEM_VERSION"),
    ]
    assert found.message is not None and "different to the one" not in found.message  # errors only


def test_a_coding_of_a_system_the_value_set_does_not_draw_on_and_nobody_has() -> None:
    value_set = {"resourceType": "ValueSet", "url": "urn:vs", "version": "1", "compose": {"include": [
        {"system": "urn:cs"}]}}  # fmt: skip
    terms = Terminologies([SYSTEM], [value_set])
    unknown = validate_in_value_set(value_set, terms, {"system": "urn:other", "code": "A"}, Where("Coding"))
    assert [i.message_id for i in unknown.issues] == [
        "None_of_the_provided_codes_are_in_the_value_set_one",
        "UNKNOWN_CODESYSTEM",
    ]
    assert unknown.unknown_system and unknown.unknown_parameter == "x-unknown-system"
    assert unknown.issues[1].text.startswith("A definition for CodeSystem urn:other could not be found")
    local = validate_in_value_set(value_set, terms, {"system": "Location1", "code": "A"}, Where("Coding"))
    assert "Terminology_TX_System_Relative" in [i.message_id for i in local.issues]
    assert "'Location1'" in local.issues[-1].text
    versioned_too = validate_in_value_set(
        value_set, terms, {"system": "urn:other", "version": "2", "code": "A"}, Where("Coding")
    )
    assert versioned_too.issues[-1].message_id == "UNKNOWN_CODESYSTEM_VERSION_NONE"
    assert "urn:other|2#A" in versioned_too.issues[0].text
    a_value_set = validate_in_value_set(value_set, terms, {"system": "urn:vs", "code": "A"}, Where("Coding"))
    assert a_value_set.issues[-1].message_id == "Terminology_TX_System_ValueSet2"
    assert not a_value_set.unknown_system


def test_a_value_set_may_deprecate_a_concept_it_lists() -> None:
    listing = {"resourceType": "ValueSet", "url": "urn:vs", "version": "1", "compose": {"include": [
        {"system": "urn:cs", "concept": [{"code": "A", "extension": [
            {"url": "http://hl7.org/fhir/StructureDefinition/valueset-deprecated", "valueBoolean": True}]},
            {"code": "B"}]}]}}  # fmt: skip
    terms = Terminologies([SYSTEM])
    deprecated = validate_in_value_set(listing, terms, {"system": "urn:cs", "code": "A"}, Where("Coding"))
    assert deprecated.result and deprecated.message is None  # valid, a warning to review
    assert [(i.severity, i.message_id) for i in deprecated.issues] == [
        ("warning", "CONCEPT_DEPRECATED_IN_VALUESET")
    ]
    assert not validate_in_value_set(listing, terms, {"system": "urn:cs", "code": "B"}, Where()).issues


def test_abstract_concepts_refused_when_asked_and_inactive_ones_when_the_value_set_says() -> None:
    whole = {"resourceType": "ValueSet", "url": "urn:vs", "compose": {"include": [{"system": "urn:cs"}]}}
    terms = Terminologies([SYSTEM])
    abstract = {"system": "urn:cs", "code": "B"}  # notSelectable
    assert validate_in_value_set(whole, terms, abstract, Where()).result
    refused = validate_in_value_set(
        whole, terms, abstract, Where(), ValidationOptions(abstract_allowed=False)
    )
    assert not refused.result
    assert [i.message_id for i in refused.issues][:2] == [
        "ABSTRACT_CODE_NOT_ALLOWED",
        "None_of_the_provided_codes_are_in_the_value_set_one",
    ]
    active_only = {**whole, "compose": {**whole["compose"], "inactive": False}}
    retired = validate_in_value_set(active_only, terms, {"system": "urn:cs", "code": "A2"}, Where())
    assert not retired.result and retired.issues[0].message_id == "STATUS_CODE_WARNING_CODE"


def test_a_refused_version_names_its_concept_and_the_codings_mismatch() -> None:
    from terminology.valuesets.resolution import VersionRules

    terms = Terminologies([versioned("1.0.0"), versioned("1.2.0")])
    terms.versions = VersionRules.of(check_system_version=["urn:v|1.0.x"])
    pinned = {"resourceType": "ValueSet", "url": "urn:vs", "compose": {"include": [
        {"system": "urn:v", "version": "1.2.0"}]}}  # fmt: skip
    refused = validate_in_value_set(
        pinned, terms, {"system": "urn:v", "version": "1.0.0", "code": "c"}, Where()
    )
    assert [i.message_id for i in refused.issues] == ["VALUESET_VERSION_CHECK", "VALUESET_VALUE_MISMATCH"]
    assert (refused.version, refused.display) == ("1.2.0", "C (1.2.0)")
    assert refused.issues[0].expression == "version"


def test_a_code_alone_takes_the_one_system_that_has_it_and_a_coding_needs_its_system() -> None:
    twins = [
        CodeSystemIndex({"url": f"urn:{n}", "concept": [{"code": "x"}, {"code": n}]}) for n in ("p", "q")
    ]
    both = {"resourceType": "ValueSet", "url": "urn:vs", "compose": {"include": [
        {"system": "urn:p"}, {"system": "urn:q"}]}}  # fmt: skip
    terms = Terminologies(twins)
    assert validate_in_value_set(both, terms, {"code": "q"}, Where()).system == "urn:q"
    ambiguous = validate_in_value_set(both, terms, {"code": "x"}, Where())
    assert not ambiguous.result
    assert ambiguous.issues[1].message_id == "Unable_to_resolve_system__value_set_has_multiple_matches"
    assert "[urn:p, urn:q]" in ambiguous.issues[1].text
    nowhere = validate_in_value_set(both, terms, {"code": "zz"}, Where())
    assert nowhere.issues[1].message_id == "UNABLE_TO_INFER_CODESYSTEM"
    bare = validate_in_value_set(both, terms, {"code": "q"}, Where("Coding"))
    assert not bare.result and bare.issues[1].message_id == "Coding_has_no_system__cannot_validate"
    assert bare.message is not None and bare.message.startswith("Coding has no system")


def test_a_value_set_drawing_on_two_versions_reads_a_coding_in_the_version_it_names() -> None:
    first = CodeSystemIndex({"url": "urn:o", "version": "1", "concept": [{"code": "a", "display": "A"}]})
    second = CodeSystemIndex({"url": "urn:o", "version": "2", "concept": [
        {"code": "a", "display": "A #2"}, {"code": "b", "display": "B"}]})  # fmt: skip
    both = {"resourceType": "ValueSet", "url": "urn:vs", "compose": {"include": [
        {"system": "urn:o", "version": "1"}, {"system": "urn:o", "version": "2"}]}}  # fmt: skip
    terms = Terminologies([first, second])
    missing = validate_in_value_set(both, terms, {"system": "urn:o", "version": "1", "code": "b"}, Where())
    assert not missing.result and missing.version == "1"
    assert "'urn:o|1#b' was not found in the value set" in missing.issues[0].text
    by_display = validate_in_value_set(both, terms, {"system": "urn:o", "code": "a", "display": "A"}, Where())
    assert by_display.result and by_display.version == "1"


def test_displays_are_judged_in_the_value_sets_own_language_unless_the_request_names_one() -> None:
    bilingual = CodeSystemIndex({"url": "urn:b", "language": "en", "concept": [
        {"code": "1", "display": "Flu", "designation": [{"language": "fr", "value": "Grippe"}]}]})  # fmt: skip
    english = {"resourceType": "ValueSet", "url": "urn:vs", "language": "en",
               "compose": {"include": [{"system": "urn:b"}]}}  # fmt: skip
    french = {"system": "urn:b", "code": "1", "display": "Grippe"}
    assert not validate_in_value_set(english, Terminologies([bilingual]), french, Where()).result
    asked = ValidationOptions(language="fr")
    assert validate_in_value_set(english, Terminologies([bilingual]), french, Where(), asked).result


def test_an_expansion_names_the_value_set_without_its_descriptive_metadata() -> None:
    value_set = {"resourceType": "ValueSet", "url": "urn:vs", "version": "3", "name": "Some", "status": "active",
                 "publisher": "Someone", "description": "What it is for", "compose": including()}  # fmt: skip
    expanded = expand(value_set, Terminologies([SYSTEM]))
    assert {k: expanded[k] for k in ("url", "version", "name", "status")} == {
        "url": "urn:vs", "version": "3", "name": "Some", "status": "active"}  # fmt: skip
    assert not {"publisher", "description", "compose"} & expanded.keys()


def test_a_long_list_is_searched_through_its_three_letter_pieces_with_the_same_answer() -> None:
    from terminology.text import fold
    from terminology.valuesets.members import Member
    from terminology.valuesets.typeahead import TRIGRAMS_FROM, SearchText, filtered_for_typing

    words = ["grippe", "agrippé", "pneumopathie", "griffe", "virale", "aviaire", "gri gri"]
    chooser = random.Random(7)
    members = [
        Member("urn:big", str(n), " ".join(chooser.choice(words) for _ in range(chooser.randint(1, 3))))
        for n in range(TRIGRAMS_FROM + 500)
    ]

    def by_scan(text: str) -> list[str]:  # what one pass over the displays gives
        wanted = " " + text
        first = [m.code for m in members if m.searchable.startswith(wanted)]
        word = [m.code for m in members if wanted in m.searchable and m.code not in first]
        rest = [m.code for m in members if text in m.searchable and m.code not in first + word]
        return first + word + rest

    for typed in ("gri", "GRIPP", "pé", "ppe avi", "zzz", "e a"):
        assert [m.code for m in filtered_for_typing(members, typed)] == by_scan(fold(typed)), typed
    assert "gri" in SearchText(members).trigrams  # the index was there to be used
