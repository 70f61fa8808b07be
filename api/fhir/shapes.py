"""The shape of FHIR operation input, checked once at the edge.

A POSTed ``Parameters`` resource, and the ValueSet, CodeSystem and ConceptMap resources it
carries, are validated against the (partial) FHIR R4 structure the operations read: each
element the code touches has its FHIR type, everything else is let through untouched. A
mismatch is a 400 ``OperationOutcome`` naming the element by its FHIRPath-like location
(``parameter[0].resource.compose.include[1].filter[0]``), instead of an error deep inside
an operation. The models only check; the operations keep reading the JSON as sent.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, StrictBool, StrictFloat, StrictInt, StrictStr, ValidationError

from api.fhir.outcome import FhirError


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


def _refuse(error: ValidationError, prefix: tuple[int | str, ...] = ()) -> FhirError:
    first = error.errors()[0]
    where = location(prefix + tuple(p for p in first["loc"] if not str(p).startswith("function-")))
    more = f" (and {error.error_count() - 1} more)" if error.error_count() > 1 else ""
    return FhirError(400, "invalid", f"{where}: {first['msg']}{more}")


def check_parameters(body: Any) -> None:
    """Raise a 400 ``FhirError`` naming the first element of ``body`` that has the wrong shape."""
    if not isinstance(body, dict) or body.get("resourceType") != "Parameters":
        raise FhirError(400, "invalid", "POST a Parameters resource")
    try:
        parsed = Parameters.model_validate(body)
    except ValidationError as error:
        raise _refuse(error) from error
    for number, parameter in enumerate(parsed.parameter):
        expected = CARRIED_AS.get(parameter.name)
        sent = body["parameter"][number]
        if expected and parameter.name in CARRIED_AS and not _carries(sent, expected):
            raise FhirError(400, "invalid", f"parameter[{number}] ({parameter.name}) must carry a {expected}")
        resource = sent.get("resource")
        if resource is not None:
            model = RESOURCES.get(str(resource.get("resourceType")))
            if model is None:
                raise FhirError(
                    400, "invalid",
                    f"parameter[{number}].resource: a {resource.get('resourceType')!r} is not read here"
                    " (ValueSet, CodeSystem or ConceptMap)",
                )  # fmt: skip
            try:
                model.model_validate(resource)
            except ValidationError as error:
                raise _refuse(error, ("parameter", number, "resource")) from error


def _carries(parameter: dict[str, Any], expected: str) -> bool:
    """True when the parameter has its expected value element, or (for codings sent by
    clients that use the query form) a ``system|code`` string."""
    if expected in parameter:
        return True
    return expected == "valueCoding" and isinstance(parameter.get("valueString"), str)
