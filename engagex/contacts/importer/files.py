"""What kind of file was uploaded: format, text encoding, delimiter, header and preview.

Every whole-file problem (wrong type, empty, too large, undecodable, duplicate header
names) is found here, before anything is stored, and raised as a `ValidationError`
with a message for people.
"""

from __future__ import annotations

import codecs
import csv
import io
import zipfile
from dataclasses import dataclass, field
from typing import BinaryIO

from django.conf import settings
from django.core.exceptions import ValidationError
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

# Default upload limit; `settings.CONTACT_IMPORT_MAX_BYTES` overrides it.
IMPORT_MAX_BYTES = 100 * 1024 * 1024
PREVIEW_ROWS = 5
CSV = "csv"
XLSX = "xlsx"
DELIMITERS = (",", ";", "\t")
DELIMITER_LABELS = {",": "comma", ";": "semicolon", "\t": "tab"}
ENCODING_LABELS = {
    "utf-8": "UTF-8",
    "utf-8-sig": "UTF-8 (with BOM)",
    "utf-16": "UTF-16",
    "utf-32": "UTF-32",
    "cp1252": "Windows-1252 (Western European)",
    "latin-1": "ISO-8859-1 (Latin-1)",
}
# Bytes Windows-1252 leaves undefined: a file containing them is read as Latin-1.
_CP1252_UNDEFINED = (b"\x81", b"\x8d", b"\x8f", b"\x90", b"\x9d")
_SCAN_CHUNK = 1024 * 1024
_SAMPLE_BYTES = 64 * 1024
_IMAGE = gettext_noop("This is an image, not a spreadsheet: upload a CSV or XLSX file.")
_NOT_SUPPORTED = {
    b"\xd0\xcf\x11\xe0": gettext_noop(
        "Old Excel files (.xls) can't be imported: save it as .xlsx or CSV."
    ),
    b"%PDF": gettext_noop("This is a PDF document, not a spreadsheet: upload a CSV or XLSX file."),
    b"\x89PNG": _IMAGE,
    b"\xff\xd8\xff": _IMAGE,
    b"GIF8": _IMAGE,
    b"\x1f\x8b": gettext_noop(
        "This is a compressed (gzip) file: unpack it and upload the CSV inside."
    ),
}
_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)


def import_max_bytes() -> int:
    return int(getattr(settings, "CONTACT_IMPORT_MAX_BYTES", IMPORT_MAX_BYTES))


def too_large_message(limit: int | None = None) -> str:
    limit = import_max_bytes() if limit is None else limit
    return _("The file is larger than %(size)s: split it into smaller files.") % {
        "size": filesizeformat(limit)
    }


@dataclass
class FileInfo:
    format: str
    encoding: str = ""
    delimiter: str = ""
    header: list[str] = field(default_factory=list)
    preview: list[list[str]] = field(default_factory=list)

    @property
    def encoding_label(self) -> str:
        return ENCODING_LABELS.get(self.encoding, self.encoding)

    @property
    def delimiter_label(self) -> str:
        return DELIMITER_LABELS.get(self.delimiter, self.delimiter)


def inspect_upload(stream: BinaryIO, *, size: int) -> FileInfo:
    """Check a whole upload and describe it; raises `ValidationError` for any problem.

    `stream` must be seekable; it is read once through for CSV (to prove the whole file
    decodes, so a bad byte on line 900,000 is refused now rather than mid-import).
    """
    if size <= 0:
        raise ValidationError(_("The file is empty."))
    if size > import_max_bytes():
        raise ValidationError(too_large_message())
    stream.seek(0)
    head = stream.read(8)
    stream.seek(0)
    for magic, message in _NOT_SUPPORTED.items():
        if head.startswith(magic):
            raise ValidationError(_(message))
    if head.startswith(b"PK\x03\x04"):
        if not is_xlsx(stream):
            raise ValidationError(
                _("This ZIP file is not an Excel workbook: upload a CSV or XLSX file.")
            )
        info = FileInfo(format=XLSX)
    else:
        encoding = detect_encoding(stream)
        info = FileInfo(format=CSV, encoding=encoding, delimiter=detect_delimiter(stream, encoding))
    from engagex.contacts.importer.readers import open_rows

    stream.seek(0)
    with open_rows(stream, info) as source:
        info.header = source.header
        for _number, cells, _error in source.rows():
            if cells is not None:
                info.preview.append(cells)
            if len(info.preview) >= PREVIEW_ROWS:
                break
    if not info.header:
        raise ValidationError(_("The file is empty."))
    header_problem = duplicate_header_message(info.header)
    if header_problem:
        raise ValidationError(header_problem)
    if not info.preview:
        raise ValidationError(_("The file has a header row but no contacts below it."))
    stream.seek(0)
    return info


def detect_encoding(stream: BinaryIO) -> str:
    """BOM first; else the whole file must decode as UTF-8; else Windows-1252/Latin-1.

    Every byte sequence is valid Latin-1, so the fallback never fails; text that is
    really UTF-8 virtually never passes as something else, which makes UTF-8 first safe.
    """
    stream.seek(0)
    head = stream.read(4)
    for bom, encoding in _BOMS:
        if head.startswith(bom):
            _check_decodes(stream, encoding)
            return encoding
    stream.seek(0)
    decoder = codecs.getincrementaldecoder("utf-8")()
    is_utf8 = True
    has_undefined_cp1252 = False
    while chunk := stream.read(_SCAN_CHUNK):
        if b"\x00" in chunk:
            raise ValidationError(
                _("This is not a text (CSV) file we can read: upload a CSV or XLSX file.")
            )
        if is_utf8:
            try:
                decoder.decode(chunk)
            except UnicodeDecodeError:
                is_utf8 = False
        if not is_utf8 and not has_undefined_cp1252:
            has_undefined_cp1252 = any(byte in chunk for byte in _CP1252_UNDEFINED)
    if is_utf8:
        try:
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            is_utf8 = False  # the file ends in the middle of a character
    if is_utf8:
        return "utf-8"
    return "latin-1" if has_undefined_cp1252 else "cp1252"


def _check_decodes(stream: BinaryIO, encoding: str) -> None:
    stream.seek(0)
    decoder = codecs.getincrementaldecoder(encoding)()
    try:
        while chunk := stream.read(_SCAN_CHUNK):
            decoder.decode(chunk)
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        label = ENCODING_LABELS[encoding]
        raise ValidationError(
            _("The file says it is %(encoding)s but contains invalid characters.")
            % {"encoding": label}
        ) from None


def detect_delimiter(stream: BinaryIO, encoding: str) -> str:
    """Comma, semicolon or tab: the one that splits the first lines most consistently."""
    stream.seek(0)
    raw = stream.read(_SAMPLE_BYTES)
    text = codecs.getincrementaldecoder(encoding)(errors="replace").decode(raw)
    if len(raw) == _SAMPLE_BYTES and "\n" in text:
        text = text[: text.rindex("\n")]  # no half line at the end of the sample
    text = text.lstrip("\ufeff")
    try:
        sniffed = csv.Sniffer().sniff(text, delimiters="".join(DELIMITERS)).delimiter
    except csv.Error:
        sniffed = None
    scores = {delimiter: _consistency(text, delimiter) for delimiter in DELIMITERS}
    if sniffed in scores and scores[sniffed] >= max(scores.values()):
        return sniffed
    best = max(DELIMITERS, key=lambda delimiter: scores[delimiter])
    return best if scores[best] > 0 else ","


def _consistency(text: str, delimiter: str) -> float:
    """How well `delimiter` splits the sample: rows sharing the header's column count."""
    try:
        rows = [row for row in csv.reader(io.StringIO(text), delimiter=delimiter) if row][:50]
    except csv.Error:
        return 0
    if not rows or len(rows[0]) < 2:
        return 0
    width = len(rows[0])
    matching = sum(1 for row in rows if len(row) == width)
    return matching / len(rows) + width / 1000  # ties: more columns wins


def duplicate_header_message(header: list[str]) -> str:
    seen: dict[str, int] = {}
    for index, name in enumerate(header):
        key = name.strip().casefold()
        if not key:
            continue
        if key in seen:
            return _(
                "The header has the column “%(name)s” twice (columns %(first)s and "
                "%(second)s): rename one of them and upload the file again."
            ) % {"name": name.strip(), "first": seen[key] + 1, "second": index + 1}
        seen[key] = index
    return ""


def is_xlsx(stream: BinaryIO) -> bool:
    stream.seek(0)
    try:
        with zipfile.ZipFile(stream) as archive:
            return "xl/workbook.xml" in archive.namelist()
    except zipfile.BadZipFile:
        return False
    finally:
        stream.seek(0)
