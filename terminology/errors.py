"""Domain errors, each a specific class so that the CLI and the API map them once.

Every error carries enough context for a terminologist to fix the input
without reading a stack trace: the file, the line (or XML element) and the
field that is wrong.

The catalogue: each class declares its stable ``code`` (what REST clients read), its
``http_status`` and its FHIR ``fhir_issue`` type. The REST renderer (``api/errors.py``) and
the FHIR one (``api/outcome.py``) both read these three, and nothing else.
"""

from __future__ import annotations

from pathlib import Path


class ConcordanceError(Exception):
    """Base of every error Concordance reports to its users."""

    code = "bad-request"
    """Stable for API clients: they branch on it, never on the message."""
    http_status = 400
    fhir_issue = "processing"
    """The FHIR ``IssueType`` of the OperationOutcome a ``/fhir`` route answers with."""
    tx_issue: str | None = None
    """The terminology ecosystem's finer ``tx-issue-type`` code (default: ``fhir_issue``; ``""``:
    none, where the reference servers give none)."""
    message_id: str | None = None
    """The reference servers' message id for the same finding, when there is one: clients
    that compare answers across servers match on it."""
    expression: str | None = None
    """Where in the request's resources the fault lies (FHIRPath), when it is known."""


class SourceFileError(ConcordanceError):
    """A source file cannot be imported as it is.

    ``location`` is a line number for text formats, or an element description
    (``<Class code="A00">``) for XML formats where line numbers are not exact.
    """

    code = "invalid-file"
    http_status = 400
    fhir_issue = "invalid"

    def __init__(
        self,
        path: Path | str,
        message: str,
        *,
        line: int | None = None,
        element: str | None = None,
        field: str | None = None,
    ) -> None:
        self.path = str(path)
        self.line = line
        self.element = element
        self.field = field
        self.reason = message
        super().__init__(self.describe())

    def describe(self) -> str:
        """Render as ``FILE:LINE: [field X: ]message`` like a compiler does."""
        where = self.path
        if self.line is not None:
            where += f":{self.line}"
        if self.element is not None:
            where += f": {self.element}"
        what = f"field {self.field!r}: {self.reason}" if self.field else self.reason
        return f"{where}: {what}"


class DuplicateCodeError(SourceFileError):
    """The same code appears twice in one code system."""


class HierarchyCycleError(SourceFileError):
    """Parent links loop back on themselves, so no hierarchy can be built."""


class UnknownParentError(SourceFileError):
    """A concept names a parent code that the file never defines."""


class UnsafeXmlError(SourceFileError):
    """An XML file declares entities; they are refused to avoid XXE and entity bombs."""


class UnknownFormatError(ConcordanceError):
    """No importer is registered under the requested format name."""

    code = "unknown-format"
    http_status = 400
    fhir_issue = "not-supported"


class InvalidImportOptionError(ConcordanceError):
    """A format option is unknown or has a wrong value."""

    code = "invalid-option"
    http_status = 400
    fhir_issue = "invalid"


class VersionConflictError(ConcordanceError):
    """The same code-system version was already imported from a different file.

    Versions are immutable: a changed release must carry a new version label.
    """

    code = "version-conflict"
    http_status = 409
    fhir_issue = "conflict"


class CodeSystemNotFoundError(ConcordanceError):
    """No code system with that canonical URL (and version) is stored."""

    code = "not-found"
    http_status = 404
    fhir_issue = "not-found"


class DatabaseNotReadyError(ConcordanceError):
    """The database schema is missing or outdated; run ``concordance db upgrade``."""

    code = "database-not-ready"
    http_status = 503
    fhir_issue = "exception"
