"""Streaming row readers for CSV and XLSX: one row at a time, never the whole file.

`open_rows(stream, info)` gives a `RowSource` with the header and a `rows()` iterator
of `(row_number, cells, error)`: `row_number` is where the row starts in the file (the
header is row 1, as in a spreadsheet), `cells` the values as text, or None with an
`error` when the row cannot be parsed (broken quoting). Blank rows are skipped.
"""

from __future__ import annotations

import contextlib
import csv
import datetime as dt
import io
from collections.abc import Iterator
from typing import BinaryIO

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from engagex.contacts.importer.files import CSV, FileInfo

Row = tuple[int, list[str] | None, str | None]


class RowSource:
    header: list[str]

    def rows(self) -> Iterator[Row]:  # pragma: no cover - interface
        raise NotImplementedError

    def fraction_read(self) -> float:
        """How much of the file has been read, 0.0 to 1.0 (for progress bars)."""
        return 0.0


class CsvRowSource(RowSource):
    def __init__(self, stream: BinaryIO, info: FileInfo) -> None:
        self._stream = stream
        self._size = _stream_size(stream)
        self._text = io.TextIOWrapper(stream, encoding=info.encoding, newline="")
        # strict: a stray quote inside a quoted cell is an error, not silently glued text.
        self._reader = csv.reader(self._text, delimiter=info.delimiter, strict=True)
        self._last_line = 0
        self.header = []
        for _number, cells, _error in self._records():
            if cells is not None:
                self.header = [cell.strip() for cell in cells]
                if self.header and self.header[0].startswith("\ufeff"):
                    self.header[0] = self.header[0][1:].strip()
                break

    def _records(self) -> Iterator[Row]:
        reader = self._reader
        while True:
            start = self._last_line + 1
            try:
                cells = next(reader)
            except StopIteration:
                return
            except csv.Error as error:
                self._last_line = reader.line_num
                yield start, None, _broken_row_message(error)
                continue
            self._last_line = reader.line_num
            if not cells or not "".join(cells).strip():
                continue  # blank lines, and spreadsheet exports' ";;;;" lines
            yield start, cells, None

    def rows(self) -> Iterator[Row]:
        return self._records()

    def fraction_read(self) -> float:
        if not self._size:
            return 0.0
        try:
            return min(1.0, self._stream.tell() / self._size)
        except (OSError, ValueError):
            return 0.0

    def close(self) -> None:
        # Leave the caller's stream open: it owns it.
        with contextlib.suppress(ValueError):
            self._text.detach()


def _broken_row_message(error: csv.Error) -> str:
    detail = str(error)
    if "field larger than field limit" in detail:
        return _("A cell is far too long (often a quote that is never closed).")
    if "unexpected end of data" in detail:
        return _("Broken quoting: a quoted cell is never closed.")
    return _("Broken quoting: %(detail)s.") % {"detail": detail}


class XlsxRowSource(RowSource):
    """First worksheet of a workbook, streamed by openpyxl's read-only mode."""

    def __init__(self, stream: BinaryIO) -> None:
        import openpyxl

        try:
            self._workbook = openpyxl.load_workbook(stream, read_only=True, data_only=True)
            sheet = self._workbook.worksheets[0]
        except Exception:  # any parse failure means a damaged file
            raise ValidationError(
                _("This XLSX file is damaged or not a spreadsheet: open and save it again.")
            ) from None
        self._max_row = sheet.max_row or 0
        self._row_number = 0
        self._iterator = sheet.iter_rows(values_only=True)
        self.header = []
        for _number, cells, _error in self._records():
            self.header = [cell.strip() for cell in cells]
            break
        self._width = len(self.header)

    def _records(self) -> Iterator[tuple[int, list[str], None]]:
        for values in self._iterator:
            self._row_number += 1
            cells = [_cell_text(value) for value in values]
            while cells and not cells[-1].strip():
                cells.pop()
            if cells:
                yield self._row_number, cells, None

    def rows(self) -> Iterator[Row]:
        width = self._width
        for number, cells, error in self._records():
            # Spreadsheets have no column count per row: short rows are padded.
            if len(cells) < width:
                cells.extend([""] * (width - len(cells)))
            yield number, cells, error

    def fraction_read(self) -> float:
        return min(1.0, self._row_number / self._max_row) if self._max_row else 0.0

    def close(self) -> None:
        self._workbook.close()


def _cell_text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, dt.datetime):
        if value.time() == dt.time(0, 0):
            return value.date().isoformat()
        return value.isoformat(sep=" ")
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    return str(value)


def _stream_size(stream: BinaryIO) -> int:
    try:
        position = stream.tell()
        size = stream.seek(0, io.SEEK_END)
        stream.seek(position)
        return size
    except (OSError, ValueError):
        return 0


@contextlib.contextmanager
def open_rows(stream: BinaryIO, info: FileInfo) -> Iterator[RowSource]:
    source = CsvRowSource(stream, info) if info.format == CSV else XlsxRowSource(stream)
    try:
        yield source
    finally:
        source.close()
