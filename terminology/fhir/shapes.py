"""The (partial) FHIR R4 structure of what Concordance reads: Parameters, ValueSet,
CodeSystem and ConceptMap.

Each element the code touches has its FHIR type; everything else is let through untouched.
The models only check (the API's operation input, the FHIR CodeSystem importer's files);
the readers keep reading the JSON as sent. :func:`location` names a bad element the way
FHIRPath would (``parameter[0].resource.compose.include[1].filter[0]``).
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, StrictBool, StrictFloat, StrictInt, StrictStr, ValidationError


class Element(BaseModel):
    """A FHIR element: the fields named here are typed, any other is kept as sent."""

    model_config = ConfigDict(extra="allow")


class Coding(Element):
    system: StrictStr | None = None
    version: StrictStr | None = None
    code: StrictStr | None = None
    display: StrictStr | None = None
    userSelected: StrictBool | None = None


class CodeableConcept(Element):
    coding: list[Coding] = []
    text: StrictStr | None = None


class Designation(Element):
    language: StrictStr | None = None
    use: Coding | None = None
    value: StrictStr | None = None


class ConceptReference(Element):
    code: StrictStr
    display: StrictStr | None = None
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
    code: StrictStr | None = None
    display: StrictStr | None = None
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
    code: StrictStr
    display: StrictStr | None = None
    definition: StrictStr | None = None
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
    code: StrictStr | None = None
    display: StrictStr | None = None
    equivalence: StrictStr | None = None
    relationship: StrictStr | None = None
    comment: StrictStr | None = None


class MapElement(Element):
    code: StrictStr | None = None
    display: StrictStr | None = None
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
