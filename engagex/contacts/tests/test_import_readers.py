"""Streaming row readers: row numbers, blank rows, broken quoting, spreadsheet cells."""

import datetime as dt
import io

from engagex.contacts.importer.files import FileInfo
from engagex.contacts.importer.readers import open_rows
from engagex.contacts.tests.import_helpers import xlsx_bytes


def read_csv(text: str, delimiter: str = ","):
    info = FileInfo(format="csv", encoding="utf-8", delimiter=delimiter)
    with open_rows(io.BytesIO(text.encode()), info) as source:
        return source.header, list(source.rows()), source.fraction_read()


def test_rows_carry_their_line_number_and_blank_lines_are_skipped():
    text = ' Email , Name\n\na@example.org,"Multi\nline"\n , \nb@example.org,B\n'
    header, rows, fraction = read_csv(text)
    assert header == ["Email", "Name"]
    assert rows == [(3, ["a@example.org", "Multi\nline"], None), (6, ["b@example.org", "B"], None)]
    assert fraction == 1.0


def test_broken_quoting_rejects_that_row_and_reading_goes_on():
    _header, rows, _fraction = read_csv('email,name\na@example.org,"Ann"x\nb@example.org,B\n')
    assert rows[0][0] == 2 and rows[0][1] is None
    assert rows[0][2].startswith("Broken quoting")
    assert rows[1] == (3, ["b@example.org", "B"], None)


def test_a_quote_never_closed_is_reported():
    _header, rows, _fraction = read_csv('email,name\na@example.org,"Ann\nb@example.org,B\n')
    assert rows == [(2, None, "Broken quoting: a quoted cell is never closed.")]


def test_the_original_stream_stays_open_for_its_owner():
    stream = io.BytesIO(b"email\na@example.org\n")
    with open_rows(stream, FileInfo(format="csv", encoding="utf-8", delimiter=",")) as source:
        list(source.rows())
    assert not stream.closed


def test_xlsx_cells_become_text_and_short_rows_are_padded():
    data = xlsx_bytes(
        [
            ["Email", "Joined", "Score", "Active", "Note"],
            ["a@example.org", dt.datetime(2024, 5, 17), 3.0, True],
            [],
            ["b@example.org", dt.datetime(2024, 5, 17, 9, 30), 2.5, False, "x"],
        ]
    )
    with open_rows(io.BytesIO(data), FileInfo(format="xlsx")) as source:
        rows = list(source.rows())
        assert source.fraction_read() == 1.0
    assert rows == [
        (2, ["a@example.org", "2024-05-17", "3", "true", ""], None),
        (4, ["b@example.org", "2024-05-17 09:30:00", "2.5", "false", "x"], None),
    ]
