"""The (partial) FHIR R4 structure of what Concordance reads: Parameters, ValueSet,
CodeSystem and ConceptMap.

Each element the code touches has its FHIR type; everything else is let through untouched.
The models only check (the API's operation input, the FHIR CodeSystem importer's files);
the readers keep reading the JSON as sent. :func:`location` names a bad element the way
FHIRPath would (``parameter[0].resource.compose.include[1].filter[0]``).
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    StrictBool,
    StrictFloat,
    StrictInt,
    StrictStr,
    ValidationError,
)


def _no_control_characters(text: str) -> str:
    """FHIR strings hold no character below U+0020 but tab, CR and LF (R4 Datatypes,
    ``string``): a NUL would be cut by the database, so it is refused, never altered.

    >>> _no_control_characters("a\\tb")
    'a\\tb'
    >>> _no_control_characters("a\\x00b")
    Traceback (most recent call last):
    ValueError: holds the control character U+0000, which a FHIR string may not
    """
    bad = next((c for c in text if (ord(c) < 0x20 and c not in "\t\r\n") or ord(c) == 0x7F), None)
    if bad is not None:
        raise ValueError(f"holds the control character U+{ord(bad):04X}, which a FHIR string may not")
    return text


def _code_characters(text: str) -> str:
    """A FHIR ``code`` holds no whitespace but single spaces: no control character at all.

    >>> _code_characters("A00.1")
    'A00.1'
    >>> _code_characters("A\\n")
    Traceback (most recent call last):
    ValueError: holds the control character U+000A, which a FHIR code may not
    """
    bad = next((c for c in text if ord(c) < 0x20 or ord(c) == 0x7F), None)
    if bad is not None:
        raise ValueError(f"holds the control character U+{ord(bad):04X}, which a FHIR code may not")
    return text


def first_control_character(resource: object) -> tuple[str, str] | None:
    """Where a resource first holds a control character (any string, any depth, keys too)
    and which one, as (``concept[0].code``, ``U+0000``); None when it holds none. A write
    checks the whole body so that no element the models do not name slips a NUL through.

    >>> first_control_character({"compose": {"include": [{"concept": [{"code": "A\\x00"}]}]}})
    ('compose.include[0].concept[0].code', 'U+0000')
    >>> first_control_character({"text": {"div": "<div>a\\nb</div>"}}) is None
    True
    """
    pending: list[tuple[tuple[int | str, ...], object]] = [((), resource)]
    while pending:
        at, value = pending.pop()
        if isinstance(value, str):
            bad = next((c for c in value if (ord(c) < 0x20 and c not in "\t\r\n") or ord(c) == 0x7F), None)
            if bad is not None:
                return location(at), f"U+{ord(bad):04X}"
        elif isinstance(value, dict):
            pending.extend(((*at, "(key)"), key) for key in value if isinstance(key, str))
            pending.extend(((*at, key), item) for key, item in reversed(value.items()))
        elif isinstance(value, list):
            pending.extend(((*at, i), item) for i, item in reversed(list(enumerate(value))))
    return None


FhirString = Annotated[StrictStr, AfterValidator(_no_control_characters)]
"""A FHIR ``string`` (or ``markdown``) as the server stores it."""
FhirCode = Annotated[StrictStr, AfterValidator(_code_characters)]
"""A FHIR ``code``."""


class Element(BaseModel):
    """A FHIR element: the fields named here are typed, any other is kept as sent."""

    model_config = ConfigDict(extra="allow")


class Coding(Element):
    system: StrictStr | None = None
    version: StrictStr | None = None
    code: FhirCode | None = None
    display: FhirString | None = None
    userSelected: StrictBool | None = None


class CodeableConcept(Element):
    coding: list[Coding] = []
    text: StrictStr | None = None


class Designation(Element):
    language: FhirCode | None = None
    use: Coding | None = None
    value: FhirString | None = None


class ConceptReference(Element):
    code: FhirCode
    display: FhirString | None = None
    designation: list[Designation] = []


class Filter(Element):
    property: StrictStr | None = None
    op: StrictStr | None = None
    value: StrictStr | StrictBool | StrictInt | None = None


class ConceptSet(Element):
    system: StrictStr | None = None
    version: StrictStr | None = None
    concept: list[ConceptReference] = []
    filter: list[Filter] = []
    valueSet: list[StrictStr] = []


class Compose(Element):
    include: list[ConceptSet] = []
    exclude: list[ConceptSet] = []
    inactive: StrictBool | None = None


class Contains(Element):
    system: StrictStr | None = None
    version: StrictStr | None = None
    code: FhirCode | None = None
    display: FhirString | None = None
    abstract: StrictBool | None = None
    inactive: StrictBool | None = None
    contains: list[Contains] = []


class Expansion(Element):
    contains: list[Contains] = []


class Resource(Element):
    resourceType: StrictStr
    url: StrictStr | None = None
    version: StrictStr | None = None


class ValueSet(Resource):
    resourceType: Literal["ValueSet"]
    compose: Compose | None = None
    expansion: Expansion | None = None


class ConceptProperty(Element):
    code: StrictStr | None = None


class CodeSystemConcept(Element):
    code: FhirCode
    display: FhirString | None = None
    definition: FhirString | None = None
    designation: list[Designation] = []
    property: list[ConceptProperty] = []
    concept: list[CodeSystemConcept] = []


class CodeSystem(Resource):
    resourceType: Literal["CodeSystem"]
    content: StrictStr | None = None
    supplements: StrictStr | None = None
    concept: list[CodeSystemConcept] = []
    property: list[ConceptProperty] = []


class MapTarget(Element):
    code: FhirCode | None = None
    display: FhirString | None = None
    equivalence: StrictStr | None = None
    relationship: StrictStr | None = None
    comment: StrictStr | None = None


class MapElement(Element):
    code: FhirCode | None = None
    display: FhirString | None = None
    target: list[MapTarget] = []


class Unmapped(Element):
    mode: StrictStr | None = None
    code: StrictStr | None = None
    url: StrictStr | None = None


class MapGroup(Element):
    source: StrictStr | None = None
    sourceVersion: StrictStr | None = None
    target: StrictStr | None = None
    targetVersion: StrictStr | None = None
    element: list[MapElement] = []
    unmapped: Unmapped | None = None


class ConceptMap(Resource):
    resourceType: Literal["ConceptMap"]
    status: StrictStr | None = None
    group: list[MapGroup] = []


RESOURCES: dict[str, type[Resource]] = {
    "ValueSet": ValueSet,
    "CodeSystem": CodeSystem,
    "ConceptMap": ConceptMap,
}


class Parameter(Element):
    name: StrictStr
    valueString: StrictStr | None = None
    valueUri: StrictStr | None = None
    valueUrl: StrictStr | None = None
    valueCode: StrictStr | None = None
    valueCanonical: StrictStr | None = None
    valueDateTime: StrictStr | None = None
    valueBoolean: StrictBool | None = None
    valueInteger: StrictInt | None = None
    valueDecimal: StrictFloat | StrictInt | None = None
    valueCoding: Coding | None = None
    valueCodeableConcept: CodeableConcept | None = None
    resource: Resource | None = None
    part: list[Parameter] = []


class Parameters(Element):
    resourceType: Literal["Parameters"]
    parameter: list[Parameter] = []


CARRIED_AS = {
    "coding": "valueCoding",
    "sourceCoding": "valueCoding",
    "targetCoding": "valueCoding",
    "codeableConcept": "valueCodeableConcept",
    "sourceCodeableConcept": "valueCodeableConcept",
    "targetCodeableConcept": "valueCodeableConcept",
    "valueSet": "resource",
    "tx-resource": "resource",
    "conceptMap": "resource",
    "codeSystem": "resource",
}
"""The value element an operation reads for these parameters (a string would not do)."""


def location(loc: tuple[int | str, ...]) -> str:
    """``("parameter", 0, "valueCoding")`` as ``parameter[0].valueCoding``.

    >>> location(("parameter", 0, "resource", "compose", "include", 1, "filter", 0))
    'parameter[0].resource.compose.include[1].filter[0]'
    """
    text = ""
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


def first_problem(error: ValidationError, prefix: tuple[int | str, ...] = ()) -> tuple[str, str]:
    """The location and message of a validation error's first problem (and how many more)."""
    first = error.errors()[0]
    where = location(prefix + tuple(p for p in first["loc"] if not str(p).startswith("function-")))
    more = f" (and {error.error_count() - 1} more)" if error.error_count() > 1 else ""
    message = "nested too deep to read" if first["type"] == "recursion_loop" else first["msg"]
    return where, f"{message}{more}"
