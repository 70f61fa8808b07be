"""What one value-set operation may cost (parts, concepts listed, seconds): the
:class:`Budget` the FHIR routes fill from the settings."""

from __future__ import annotations

import time
from dataclasses import dataclass

from terminology.valuesets.errors import TooCostlyError


@dataclass
class Budget:
    """What one ValueSet operation may cost: ``include`` / ``exclude`` parts evaluated
    (imported value sets counted), concepts listed in one answer, and time. The default is
    unbounded, for the command line and the Python API; the FHIR routes set the settings'."""

    max_parts: int | None = None
    max_listed: int | None = None
    deadline: float | None = None
    """A ``time.monotonic()`` instant after which the operation stops."""
    parts: int = 0

    def spend_part(self) -> None:
        self.parts += 1
        if self.max_parts is not None and self.parts > self.max_parts:
            raise TooCostlyError(
                f"the value set has more than {self.max_parts} include / exclude parts (imports counted),"
                " the most one request may evaluate here"
            )
        self.check_time()

    def check_time(self) -> None:
        if self.deadline is not None and time.monotonic() > self.deadline:
            raise TooCostlyError("the operation ran out of the seconds one request may take here")

    def check_listed(self, listed: int, total: int) -> None:
        if self.max_listed is not None and listed > self.max_listed:
            raise TooCostlyError(
                f"the expansion would list {listed} of {total} concepts; at most {self.max_listed} are"
                " listed in one answer: page through it with count and offset"
            )
