"""CSV files we hand to people must be safe to open in a spreadsheet.

Excel, LibreOffice and Google Sheets run a cell that starts with `=`, `+`, `-` or `@`
as a formula (and a leading tab or carriage return can hide such a start), so a contact
named `=HYPERLINK(…)` could run code or leak data on the reader's machine (OWASP "CSV
injection"). Every cell of every CSV we write goes through `neutralize_cell`, which puts
a `'` in front of such a value: spreadsheets then show it as plain text.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable
from typing import Any

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def neutralize_cell(value: Any) -> str:
    """The value as CSV text, with a `'` prefix when it could start a formula."""
    if value is None:
        return ""
    text = value if isinstance(value, str) else str(value)
    if text.startswith(FORMULA_STARTS):
        return "'" + text
    return text


def neutralize_row(values: Iterable[Any]) -> list[str]:
    return [neutralize_cell(value) for value in values]


class SafeCsvWriter:
    """`csv.writer` whose every cell is neutralized; same `writerow`/`writerows` API."""

    def __init__(self, stream, **writer_options) -> None:
        self._writer = csv.writer(stream, **writer_options)

    def writerow(self, values: Iterable[Any]) -> None:
        self._writer.writerow(neutralize_row(values))

    def writerows(self, rows: Iterable[Iterable[Any]]) -> None:
        self._writer.writerows(neutralize_row(row) for row in rows)
