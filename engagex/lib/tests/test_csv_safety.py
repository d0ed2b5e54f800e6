import csv
import io

import pytest

from engagex.lib.csv_safety import SafeCsvWriter, neutralize_cell, neutralize_row


@pytest.mark.parametrize(
    "value",
    [
        '=HYPERLINK("http://evil.example","x")',
        "+1+2",
        "-2+3",
        "@SUM(A1:A2)",
        "\t=1+1",
        "\r=1+1",
    ],
)
def test_formula_starts_are_prefixed_with_a_quote(value):
    assert neutralize_cell(value) == "'" + value


@pytest.mark.parametrize("value", ["ada@example.org", "Ada", "1+1", "", "a=b", " =x"])
def test_ordinary_text_is_unchanged(value):
    assert neutralize_cell(value) == value


def test_non_text_values_become_text():
    assert neutralize_row([None, 3, -4, 2.5, True]) == ["", "3", "'-4", "2.5", "True"]


def test_writer_neutralizes_every_cell_and_a_spreadsheet_reads_it_back_as_text():
    stream = io.StringIO()
    writer = SafeCsvWriter(stream)
    writer.writerow(["email", "note"])
    writer.writerows([["a@example.org", "=cmd|' /C calc'!A0"], ["b@example.org", "@x"]])
    rows = list(csv.reader(io.StringIO(stream.getvalue())))
    assert rows == [
        ["email", "note"],
        ["a@example.org", "'=cmd|' /C calc'!A0"],
        ["b@example.org", "'@x"],
    ]
