"""File inspection: format, encoding and delimiter detection, whole-file problems."""

import codecs
import io

import pytest
from django.core.exceptions import ValidationError

from engagex.contacts.importer.files import IMPORT_MAX_BYTES, import_max_bytes, inspect_upload
from engagex.contacts.tests.import_helpers import xlsx_bytes


def inspect(data: bytes):
    return inspect_upload(io.BytesIO(data), size=len(data))


@pytest.mark.parametrize(
    ("data", "encoding"),
    [
        (b"email,name\na@example.org,Zo\xc3\xab\n", "utf-8"),
        (codecs.BOM_UTF8 + b"email,name\na@example.org,Zoe\n", "utf-8-sig"),
        ("email,name\na@example.org,Zoë\n".encode("utf-16"), "utf-16"),
        ("email,name\na@example.org,Zoë\n".encode("utf-16-be"), None),  # no BOM: refused
        (b"email,name\na@example.org,Zo\xeb \x80\n", "cp1252"),  # \x80 is the euro sign
        (b"email,name\na@example.org,Zo\xeb \x81\n", "latin-1"),  # \x81: not in cp1252
    ],
)
def test_encoding_is_detected(data, encoding):
    if encoding is None:
        with pytest.raises(ValidationError, match="not a text"):
            inspect(data)
        return
    info = inspect(data)
    assert info.encoding == encoding
    assert info.header == ["email", "name"]
    assert info.preview[0][0] == "a@example.org"


def test_utf8_file_with_a_bad_byte_far_down_is_read_as_windows_1252():
    # Detection reads the whole file, not a sample: the bad byte is past the first MB.
    body = "".join(f"user{i}@example.org,Zoë\n" for i in range(80_000)).encode()
    info = inspect(b"email,name\n" + body + b"late@example.org,Fran\xe7ois\n")
    assert info.encoding == "cp1252"


@pytest.mark.parametrize(
    ("text", "delimiter"),
    [
        ("email,name\na@example.org,A\nb@example.org,B\n", ","),
        ("email;name;city\na@example.org;A;Köln\nb@example.org;B;Berlin, Mitte\n", ";"),
        ("email\tname\na@example.org\tA, the first\n", "\t"),
        ('email;name\na@example.org;"Smith, John"\n', ";"),
        ("email\na@example.org\n", ","),  # one column: nothing to split
    ],
)
def test_delimiter_is_detected(text, delimiter):
    assert inspect(text.encode()).delimiter == delimiter


def test_xlsx_is_recognized_and_its_first_sheet_previewed():
    info = inspect(xlsx_bytes([["Email", "Name"], ["a@example.org", "A"], ["b@example.org", None]]))
    assert (info.format, info.encoding, info.delimiter) == ("xlsx", "", "")
    assert info.header == ["Email", "Name"]
    assert info.preview == [["a@example.org", "A"], ["b@example.org", ""]]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "The file is empty."),
        (b"\n\n\n", "The file is empty."),
        (b"email\n", "has a header row but no contacts"),
        (b"%PDF-1.4", "PDF document"),
        (b"\x89PNG\r\n\x1a\n", "image"),
        (b"PK\x03\x04 not really a zip", "not an Excel workbook"),
        (b"\x1f\x8b\x08\x00", "compressed"),
        (codecs.BOM_UTF8 + b"email\n\xff\xfe\n", "says it is UTF-8 (with BOM)"),
        (b"Email,Name,EMAIL\na,b,c\n", "“EMAIL” twice (columns 1 and 3)"),
    ],
)
def test_whole_file_problems_are_refused_with_a_message(data, message):
    with pytest.raises(ValidationError) as caught:
        inspect(data)
    assert message in caught.value.messages[0]


def test_size_limit_defaults_to_100_mb_and_follows_settings(settings):
    assert IMPORT_MAX_BYTES == 100 * 1024 * 1024
    assert import_max_bytes() == IMPORT_MAX_BYTES
    settings.CONTACT_IMPORT_MAX_BYTES = 10
    with pytest.raises(ValidationError, match="larger than 10"):
        inspect(b"email\na@example.org\n")
