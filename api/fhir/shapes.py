"""FHIR operation input, checked against its shape once, at the edge: a mismatch is a 400
``OperationOutcome`` naming the element (``parameter[0].resource.compose.include[1]``),
instead of an error deep inside an operation."""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from api.outcome import FhirError
from terminology.fhir.shapes import CARRIED_AS, RESOURCES, Parameters, first_problem


def _refuse(error: ValidationError, prefix: tuple[int | str, ...] = ()) -> FhirError:
    where, message = first_problem(error, prefix)
    return FhirError(400, "invalid", f"{where}: {message}")


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
