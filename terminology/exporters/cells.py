"""Cells of CSV files meant for spreadsheets, written so that none runs as a formula.

A spreadsheet treats a cell starting with ``=``, ``+``, ``-`` or ``@`` (or a tab or carriage
return before one) as a formula — ``=HYPERLINK(...)`` in a curator's comment would become a
link in the terminologist's export (OWASP "CSV injection"). Such a cell is written with a
leading ``'``, which spreadsheets show as text. Machine formats (SSSOM TSV, JSON) keep what
was written.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_safe(value: Any) -> Any:
    """``value`` as a cell no spreadsheet runs.

    >>> spreadsheet_safe('=HYPERLINK("http://x")'), spreadsheet_safe("C02.05"), spreadsheet_safe(-3)
    ('\\'=HYPERLINK("http://x")', 'C02.05', -3)
    """
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def safe_row(values: Iterable[Any]) -> list[Any]:
    return [spreadsheet_safe(value) for value in values]


def spreadsheet_value(cell: str) -> str:
    """What :func:`spreadsheet_safe` was given, from the cell it wrote (the ``'`` before a
    formula start is dropped, as spreadsheets show it).

    >>> spreadsheet_value("'=SUM(A1)"), spreadsheet_value("'quoted"), spreadsheet_value("C02")
    ('=SUM(A1)', "'quoted", 'C02')
    """
    if cell.startswith("'") and cell[1:].startswith(FORMULA_STARTS):
        return cell[1:]
    return cell
