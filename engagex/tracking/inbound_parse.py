"""Inbound mail at the bounce mailbox: what it is and which delivery it is about.

`parse_inbound(raw, envelope_recipients=...)` turns the bytes of one received message into
an `InboundReport`:

- kind "bounce": a delivery status notification (RFC 3464) or a plain-text bounce, with
  one `RecipientStatus` per recipient and its severity (hard / soft / policy / none, see
  `dsn`);
- kind "complaint": a feedback-loop report (ARF, RFC 5965, or Microsoft's JMRP), see `arf`;
- kind "auto_reply": vacation and out-of-office replies, which are never bounces;
- kind "unsubscribe": mail to the List-Unsubscribe mailto address, with the token from its
  subject (`mime` writes `mailto:unsubscribe@<bounce domain>?subject=<token>`);
- kind "unknown": anything else, with a short reason, so the intake can keep it for a
  human to look at.

The delivery is found from the VERP address the mail was sent to (`verp_parse`), else from
the Message-ID of the returned original (`message_id_parse`); both verify an HMAC, so a
forged bounce can't be pinned on a delivery.

It never raises: mail from the internet is malformed in every possible way, and losing a
bounce because of one bad header would be worse than a vague report. Work is bounded: at
most MAX_INPUT_BYTES are looked at, each MIME body is cut to MAX_SEGMENT_BYTES before
parsing (a 10 MB attachment in a returned message costs nothing), attachments are never
decoded, and at most TEXT_LIMIT characters of text are scanned.
"""

from __future__ import annotations

import binascii
import contextlib
import html
import itertools
import logging
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, replace
from email import errors, policy
from email.header import decode_header
from email.message import Message
from email.parser import BytesParser
from email.utils import collapse_rfc2231_value

from engagex.delivery.identifiers import VERP_PREFIX, message_id_parse, verp_parse
from engagex.tracking import dsn
from engagex.tracking.arf import (
    Complaint,
    complaint_without_report,
    looks_like_complaint,
    parse_feedback_report,
)
from engagex.tracking.dsn import (
    HARD,
    NONE,
    POLICY,
    SOFT,
    Fields,
    RecipientStatus,
    addresses_in,
    parse_field_blocks,
)

log = logging.getLogger(__name__)

__all__ = ["Complaint", "InboundReport", "RecipientStatus", "parse_inbound"]

MAX_INPUT_BYTES = 32 * 1024 * 1024
MAX_SEGMENT_BYTES = 256 * 1024
TEXT_LIMIT = 64 * 1024
_MAX_PARTS = 200
_MAX_DEPTH = 10
_MAX_ID_CANDIDATES = 100

_SEVERITY_RANK = {HARD: 3, POLICY: 2, SOFT: 1, NONE: 0}


@dataclass(frozen=True)
class InboundReport:
    """What a received message is, and which delivery it is about."""

    kind: str  # bounce | complaint | unsubscribe | auto_reply | unknown
    reason: str  # short, for people: which format was recognised, or why none was
    recipients: tuple[RecipientStatus, ...] = ()  # bounces: one result per recipient
    complaint: Complaint | None = None  # complaints: what the feedback report says
    unsubscribe_token: str = ""  # unsubscribe: the subject, without "Re:" and the like
    delivery_id: int | None = None
    delivery_id_method: str | None = None  # "verp" | "message_id" | None
    original_message_id: str = ""  # Message-ID of the returned original, if included
    subject: str = ""
    sender: str = ""  # address in From

    @property
    def severity(self) -> str | None:
        """The most consequential recipient severity (hard > policy > soft > none), or
        None when there are no recipient results."""
        if not self.recipients:
            return None
        return max((r.severity for r in self.recipients), key=_SEVERITY_RANK.__getitem__)


def parse_inbound(raw: bytes, *, envelope_recipients: Sequence[str] = ()) -> InboundReport:
    """Classify one received message. `envelope_recipients`: the RCPT TO addresses, when
    known (they take precedence over the To-like headers). Never raises."""
    try:
        return _parse(_as_bytes(raw), [str(address) for address in envelope_recipients or ()])
    except Exception as exc:  # anything from the internet: store it, don't crash the intake
        log.warning("inbound message not parsed: %s: %s", type(exc).__name__, exc)
        return InboundReport(kind="unknown", reason=f"parser error: {type(exc).__name__}")


# --- reading the message ------------------------------------------------------------------


@dataclass
class _Inspection:
    """What one walk over the MIME tree found."""

    headers: Fields
    subject: str = ""
    sender: str = ""
    report_type: str = ""
    delivery_status: list[str] = field(default_factory=list)  # message/delivery-status texts
    feedback_reports: list[str] = field(default_factory=list)  # message/feedback-report texts
    original: Fields = field(default_factory=dict)  # headers of the returned original
    attached_original: bool = False  # a whole message/rfc822 was attached
    text: str = ""  # the human-readable explanation (inline text parts)
    attachment_text: str = ""  # text attachments: only searched for Message-IDs


def _parse(raw: bytes, envelope_recipients: list[str]) -> InboundReport:
    if not raw.strip():
        return InboundReport(kind="unknown", reason="empty input")
    # compat32 rather than policy.default: with compat32, reading a header returns the
    # stored string, while the default policy parses it on access (address lists, dates,
    # encoded words) and that parsing has raised on malformed headers in several Python
    # releases. Bounces are full of malformed headers; we decode the few we need ourselves.
    message = BytesParser(policy=policy.compat32).parsebytes(_shrink(raw))
    inspection = _inspect(message)
    if not inspection.headers:
        return InboundReport(kind="unknown", reason="no mail headers")
    report = _classify(inspection, envelope_recipients)
    delivery_id, method = _identify(inspection, envelope_recipients, report.complaint)
    return replace(
        report,
        delivery_id=delivery_id,
        delivery_id_method=method,
        original_message_id=_field(inspection.original, "message-id"),
        subject=inspection.subject,
        sender=inspection.sender,
    )


def _as_bytes(raw: object) -> bytes:
    if isinstance(raw, bytes):
        return raw
    if isinstance(raw, bytearray | memoryview):
        return bytes(raw)
    if isinstance(raw, str):
        return raw.encode("utf-8", "surrogateescape")
    return b""


def _shrink(raw: bytes) -> bytes:
    """The message with every MIME body cut to MAX_SEGMENT_BYTES. Bodies are split at
    lines starting with "--" (every boundary is one; other such lines only make pieces
    smaller), so the structure and every part's headers survive while a 10 MB attachment
    shrinks to its first 256 KB, which is never decoded anyway. The stdlib parser works line
    by line in Python: this keeps its time bounded whatever the input."""
    raw = raw[:MAX_INPUT_BYTES]
    if len(raw) <= MAX_SEGMENT_BYTES:
        return raw
    pieces = []
    start = 0
    while True:
        boundary = raw.find(b"\n--", start)
        if boundary < 0:
            pieces.append(_cap(raw[start:]))
            return b"".join(pieces)
        line_end = raw.find(b"\n", boundary + 1)
        line_end = len(raw) if line_end < 0 else line_end
        pieces.append(_cap(raw[start : boundary + 1]))
        pieces.append(raw[boundary + 1 : line_end])
        start = line_end


def _cap(segment: bytes) -> bytes:
    if len(segment) <= MAX_SEGMENT_BYTES:
        return segment
    cut = segment.rfind(b"\n", 0, MAX_SEGMENT_BYTES)
    return segment[: cut + 1] if cut > 0 else segment[:MAX_SEGMENT_BYTES]


def _inspect(message: Message) -> _Inspection:
    headers = _message_headers(message)
    inspection = _Inspection(
        headers=headers,
        subject=_field(headers, "subject"),
        sender=next(iter(addresses_in(_field(headers, "from"))), ""),
        report_type=_param(message, "report-type"),
    )
    plain, rich, attached = [], [], []
    for part in itertools.islice(_walk(message, 0), _MAX_PARTS):
        content_type = part.get_content_type()
        if content_type in ("message/delivery-status", "message/global-delivery-status"):
            inspection.delivery_status.append(_report_text(part))
        elif content_type == "message/feedback-report":
            inspection.feedback_reports.append(_report_text(part))
        elif content_type in ("message/rfc822", "message/global"):
            inspection.attached_original = True
            inspection.original = inspection.original or _embedded_headers(part)
        elif content_type in (
            "text/rfc822-headers",
            "message/rfc822-headers",
            "message/global-headers",
        ):
            inspection.original = inspection.original or _embedded_headers(part)
        elif part.get_content_maintype() == "multipart" and part.is_multipart():
            continue  # a container: its children come next
        elif _is_attachment(part):
            if part.get_content_maintype() == "text":
                attached.append(part)
        elif content_type == "text/html":
            rich.append(part)
        elif part.get_content_maintype() in ("text", "multipart"):  # or broken multipart
            plain.append(part)
    inspection.text = _joined_text(plain) or _html_to_text(_joined_text(rich))
    inspection.attachment_text = _joined_text(attached)
    return inspection


def _walk(part: Message, depth: int) -> Iterator[Message]:
    """The parts of the message, depth first, without entering attached messages (only
    their headers matter, and their bodies can be anything)."""
    yield part
    if part.get_content_maintype() != "multipart" or depth >= _MAX_DEPTH:
        return
    payload = part.get_payload()
    if isinstance(payload, list):
        for child in payload:
            if isinstance(child, Message):
                yield from _walk(child, depth + 1)


def _is_attachment(part: Message) -> bool:
    disposition = str(part.get("content-disposition", "")).strip().lower()
    return disposition.startswith("attachment")


def _joined_text(parts: list[Message]) -> str:
    texts = []
    budget = TEXT_LIMIT
    for part in parts:
        if budget <= 0:
            break
        text = _part_text(part, budget)
        texts.append(text)
        budget -= len(text)
    return "\n\n".join(texts)


def _html_to_text(markup: str) -> str:
    markup = re.sub(r"(?is)<(script|style|head)\b.*?</\1\s*>", " ", markup)
    markup = re.sub(r"(?i)<br\s*/?>|</(?:p|div|tr|li|h\d|table)\s*>", "\n", markup)
    return html.unescape(re.sub(r"<[^>]*>", " ", markup))


# --- headers and text decoding ------------------------------------------------------------

_UNFOLD = re.compile(r"\r\n|\r|\n")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def _message_headers(message: Message) -> Fields:
    fields: Fields = {}
    for name, value in message.raw_items():
        fields.setdefault(str(name).strip().lower(), []).append(_header_text(str(value)))
    return fields


def _field(fields: Fields, name: str) -> str:
    return dsn.field(fields, name)


def _header_text(value: str) -> str:
    """A header value as readable text: unfolded, raw 8-bit bytes decoded (UTF-8 per RFC
    6532, else Latin-1), RFC 2047 encoded words decoded, whatever the charset says."""
    value = _clean(_UNFOLD.sub("", value))
    if "=?" in value:
        value = _decode_encoded_words(value)
    return value.strip()


def _decode_encoded_words(value: str) -> str:
    try:
        chunks = decode_header(value)
    except Exception:  # a malformed encoded word: keep the text as it was
        return value
    decoded = []
    for chunk, charset in chunks:
        if isinstance(chunk, str):
            decoded.append(chunk)
        elif charset is None:  # text between encoded words, as decode_header encodes it
            decoded.append(chunk.decode("raw-unicode-escape", "replace"))
        else:
            decoded.append(_decode_bytes(chunk, charset))
    return _clean("".join(decoded))


def _clean(text: str) -> str:
    """Text safe to store: the stdlib keeps undecodable bytes as lone surrogates; they
    become UTF-8 (or Latin-1) characters, and control characters (NUL…) are dropped."""
    if any("\udc80" <= char <= "\udcff" for char in text):
        data = text.encode("utf-8", "surrogateescape")
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            text = data.decode("latin-1")
    text = text.encode("utf-8", "replace").decode("utf-8")  # any other lone surrogate
    return _CONTROL.sub("", text)


def _decode_bytes(data: bytes, charset: str | None) -> str:
    """Bytes in the declared charset; an unknown or bogus charset ("x-unknown", a
    bytes-to-bytes codec) falls back to UTF-8, then Latin-1, which never fails."""
    if charset:
        with contextlib.suppress(Exception):  # LookupError, or a codec that isn't text
            return _clean(data.decode(charset.strip().strip('"'), "replace"))
    try:
        return _clean(data.decode("utf-8"))
    except UnicodeDecodeError:
        return _clean(data.decode("latin-1"))


def _param(part: Message, name: str) -> str:
    try:
        value = part.get_param(name)
        if isinstance(value, tuple):
            value = collapse_rfc2231_value(value)
        return _clean(str(value)).strip().lower() if value else ""
    except Exception:  # a broken Content-Type parameter is just absent
        return ""


def _payload_bytes(part: Message, limit: int) -> bytes:
    """At most `limit` bytes of the decoded body of a leaf part. Decoding it whole is
    bounded: `_shrink` has cut every body to MAX_SEGMENT_BYTES. (get_payload() without
    decode=True would replace 8-bit bytes it can't decode; these bytes are what we need.)"""
    try:
        data = part.get_payload(decode=True)
    except Exception:  # a transfer encoding the stdlib trips over: no text
        return b""
    return data[:limit] if isinstance(data, bytes) else b""


def _part_text(part: Message, limit: int = TEXT_LIMIT) -> str:
    try:
        charset = part.get_content_charset()
    except Exception:  # a charset parameter the stdlib can't even read
        charset = None
    return _decode_bytes(_payload_bytes(part, limit), charset)[:limit]


def _report_text(part: Message) -> str:
    """The fields of a report part as text. The stdlib parses message/delivery-status
    into one sub-message per block and other message/* types into one sub-message; both
    are put back together so `parse_field_blocks` reads every kind the same way."""
    payload = part.get_payload()
    if isinstance(payload, str):  # a report part that isn't message/*, or unparsed
        return _part_text(part)
    text = "\n\n".join(_block_text(block) for block in payload[:1000])
    encoding = str(part.get("content-transfer-encoding", "")).strip().lower()
    if encoding == "base64":  # not allowed for message/*, sent anyway by some software
        try:
            text = binascii.a2b_base64(re.sub(r"[^A-Za-z0-9+/=]", "", text)).decode(
                "utf-8", "replace"
            )
        except (binascii.Error, ValueError):
            return ""
    return _clean(text[: TEXT_LIMIT * 4])


def _block_text(block: object) -> str:
    if not isinstance(block, Message):
        return ""
    fields = "\n".join(f"{name}: {value}" for name, value in block.raw_items())
    body = block.get_payload()
    if isinstance(body, list):
        body = "\n\n".join(_block_text(inner) for inner in body[:100])
    if not body:
        return fields
    # The body follows a blank line, unless the parser met a line that wasn't a field
    # (a continuation of the same block in a malformed report).
    joined_by_blank_line = not any(
        isinstance(defect, errors.MissingHeaderBodySeparatorDefect) for defect in block.defects
    )
    return fields + ("\n\n" if joined_by_blank_line else "\n") + body


def _embedded_headers(part: Message) -> Fields:
    """The headers of the original message in a message/rfc822 or rfc822-headers part."""
    payload = part.get_payload()
    if isinstance(payload, list):
        inner = next((item for item in payload if isinstance(item, Message)), None)
        return _message_headers(inner) if inner is not None else {}
    blocks = parse_field_blocks(_part_text(part))
    if not blocks:
        return {}
    return {name: [_header_text(v) for v in values] for name, values in blocks[0].items()}


# --- what kind of message -----------------------------------------------------------------


def _classify(inspection: _Inspection, envelope_recipients: list[str]) -> InboundReport:
    if inspection.feedback_reports or inspection.report_type == "feedback-report":
        return _arf_complaint(inspection)
    if inspection.delivery_status or inspection.report_type in (
        "delivery-status",
        "global-delivery-status",
    ):
        return _dsn_bounce(inspection)
    if _looks_like_plain_bounce(inspection):
        return _plain_bounce(inspection)
    if inspection.attached_original and looks_like_complaint(
        inspection.subject, inspection.sender, inspection.text, inspection.original
    ):
        return InboundReport(
            kind="complaint",
            reason="complaint report without feedback-report part (JMRP style)",
            complaint=complaint_without_report(inspection.original),
        )
    auto_reply = _auto_reply_reason(inspection)
    if auto_reply:
        return InboundReport(kind="auto_reply", reason=auto_reply)
    if _sent_to_unsubscribe(inspection, envelope_recipients):
        return InboundReport(
            kind="unsubscribe",
            reason="mail to the unsubscribe mailbox",
            unsubscribe_token=_unsubscribe_token(inspection.subject),
        )
    return InboundReport(kind="unknown", reason="no bounce, complaint or auto-reply markers")


def _arf_complaint(inspection: _Inspection) -> InboundReport:
    blocks = [block for text in inspection.feedback_reports for block in parse_field_blocks(text)]
    if not blocks:  # report-type=feedback-report with the fields in a mislabelled part
        blocks = [b for b in parse_field_blocks(inspection.text) if "feedback-type" in b]
    report: Fields = {}
    for block in blocks:
        for name, values in block.items():
            report.setdefault(name, []).extend(values)
    return InboundReport(
        kind="complaint",
        reason="ARF feedback report" if report else "ARF report without feedback fields",
        complaint=parse_feedback_report(report, inspection.original),
    )


def _dsn_bounce(inspection: _Inspection) -> InboundReport:
    results: list[RecipientStatus] = []
    for text in inspection.delivery_status:
        results.extend(dsn.parse_delivery_status(text)[1])
    if not results:
        return _plain_bounce(inspection, reason="delivery status report without recipients")
    explanations = dsn.failure_explanations(inspection.text)
    fallback = dsn.first_reply_line(inspection.text)
    results = [
        dsn.with_explanation(result, explanations.get(result.recipient.lower()) or fallback)
        for result in results
    ]
    return InboundReport(
        kind="bounce",
        reason="delivery status notification (RFC 3464)",
        recipients=tuple(results),
    )


def _plain_bounce(inspection: _Inspection, reason: str = "plain-text bounce") -> InboundReport:
    failed = [
        address
        for value in inspection.headers.get("x-failed-recipients", [])
        for address in addresses_in(value)
    ]
    original_to = [
        address
        for address in addresses_in(_field(inspection.original, "to"))
        if not address.lower().startswith(VERP_PREFIX)
    ]
    return InboundReport(
        kind="bounce",
        reason=reason,
        recipients=tuple(dsn.parse_plain_bounce(inspection.text, failed, original_to)),
    )


_DAEMON_LOCAL_PARTS = {
    "mailer-daemon",
    "mailer_daemon",
    "mailerdaemon",
    "mail-daemon",
    "maildaemon",
    "mdaemon",
    "postmaster",
}
_BOUNCE_SUBJECT = re.compile(
    r"undeliver|delivery status notification \((?:failure|delay)\)|mail delivery (?:failed|"
    r"failure|system)|delivery (?:has )?fail|returned mail|failure notice|could not be "
    r"delivered|non[- ]?delivery|not delivered|delayed mail|warning: message \S+ delayed|"
    r"mail system error|unzustellbar|nicht zustellbar|non remis|non recapitabile|"
    r"no se pudo entregar|onbestelbaar",
    re.IGNORECASE,
)
_BOUNCE_BODY = re.compile(
    r"created automatically by mail delivery software|this is the qmail-send program|"
    r"wasn't able to deliver your message|could not be delivered to (?:one or more|the "
    r"following)|following (?:address(?:es|\(es\))?|recipients?) (?:failed|had permanent)|"
    r"delivery to the following recipients? (?:failed|has been delayed)|"
    r"(?:message|mail) (?:could not|couldn't|wasn't|was not) (?:be )?delivered|"
    r"permanent fatal errors|this is the mail system at host|delivery has failed",
    re.IGNORECASE,
)


def _from_mail_system(inspection: _Inspection) -> bool:
    local = inspection.sender.rpartition("@")[0].lower()
    display = _field(inspection.headers, "from").lower()
    return (
        local in _DAEMON_LOCAL_PARTS
        or local.startswith("microsoftexchange")  # Exchange's NDR sender
        or "mail delivery" in display
    )


def _looks_like_plain_bounce(inspection: _Inspection) -> bool:
    """Only with strong signs, so that a person's auto-reply is never taken for a bounce:
    the mail system as sender plus a bounce subject or wording, Exim's X-Failed-Recipients,
    or both a bounce subject and bounce wording in mail not marked as an auto-reply."""
    headers = inspection.headers
    if "x-failed-recipients" in headers or "x-ms-exchange-message-is-ndr" in headers:
        return True
    subject = bool(_BOUNCE_SUBJECT.search(inspection.subject))
    wording = bool(_BOUNCE_BODY.search(inspection.text[:8192]))
    if _from_mail_system(inspection):
        return subject or wording
    return subject and wording and not _explicit_auto_reply(inspection)


_AUTO_REPLY_SUBJECT = re.compile(
    r"out of (?:the )?office|\booo\b|auto(?:matic|matische)?[- ]?(?:reply|response|"
    r"antwort|answer)|autorespon|vacation|away from (?:the office|my desk|work)|"
    r"abwesenheit|\babsence\b|\babsent\b|r[ée]ponse automatique|respuesta autom[áa]tica|"
    r"risposta automatica|automatisch antwoord|autosvar|fuera de la oficina|"
    r"hors du bureau|on leave\b",
    re.IGNORECASE,
)


def _explicit_auto_reply(inspection: _Inspection) -> str:
    """Markers only auto-responders use (bounces also say Auto-Submitted: auto-replied)."""
    headers = inspection.headers
    for name in ("x-autoreply", "x-autorespond", "x-autoresponder", "x-autogenerated"):
        value = _field(headers, name).lower()
        if name in headers and value not in ("no", "false", "0"):
            return f"{name} header"
    if _field(headers, "precedence").lower() in ("auto_reply", "auto-reply"):
        return "Precedence: auto_reply"
    if _AUTO_REPLY_SUBJECT.search(inspection.subject):
        return "auto-reply subject"
    return ""


def _auto_reply_reason(inspection: _Inspection) -> str:
    auto_submitted = _field(inspection.headers, "auto-submitted").lower()
    if auto_submitted and not auto_submitted.startswith("no"):
        # auto-generated too: at the bounce mailbox, anything automatic that isn't a
        # bounce or a report is a response to our mail (ticket systems, challenges).
        return f"auto-reply (Auto-Submitted: {auto_submitted.split(';')[0].strip()})"
    explicit = _explicit_auto_reply(inspection)
    return f"auto-reply ({explicit})" if explicit else ""


# --- unsubscribe mailbox ------------------------------------------------------------------

_ADDRESSED_TO = ("delivered-to", "x-original-to", "envelope-to", "x-envelope-to", "to")
_REPLY_PREFIX = re.compile(
    r"^\s*(?:(?:re|fwd?|aw|wg|sv|vs|antw|tr|rif|ref|r)\s*(?:\[\d+\])?\s*:\s*)+",
    re.IGNORECASE,
)


def _addressed_to(inspection: _Inspection, envelope_recipients: list[str]) -> list[str]:
    """Where the mail was sent: the envelope when known, else the To-like headers."""
    if envelope_recipients:
        return _envelope_addresses(envelope_recipients)
    return [a for name in _ADDRESSED_TO for a in _header_addresses(inspection, name)]


def _envelope_addresses(envelope_recipients: list[str]) -> list[str]:
    return [address for value in envelope_recipients for address in addresses_in(value)]


def _header_addresses(inspection: _Inspection, name: str) -> list[str]:
    return [a for value in inspection.headers.get(name, []) for a in addresses_in(value)]


def _sent_to_unsubscribe(inspection: _Inspection, envelope_recipients: list[str]) -> bool:
    return any(
        address.rpartition("@")[0].lower() == "unsubscribe"
        for address in _addressed_to(inspection, envelope_recipients)
    )


def _unsubscribe_token(subject: str) -> str:
    return _REPLY_PREFIX.sub("", subject).strip().strip("<>\"'[]").strip()[:200]


# --- which delivery -----------------------------------------------------------------------

_BRACKETED_ID = re.compile(r"<([^<>\s]{1,250}@[^<>\s]{1,250})>")
_LABELLED_ID = re.compile(r"message-id:\s*<?([^\s<>]{1,250}@[^\s<>]{1,250})>?", re.IGNORECASE)
_ORIGINAL_ID_FIELD = re.compile(r"^x-original-message-id:\s*(\S+)", re.IGNORECASE | re.M)


def _identify(
    inspection: _Inspection, envelope_recipients: list[str], complaint: Complaint | None
) -> tuple[int | None, str | None]:
    for address in _verp_candidates(inspection, envelope_recipients, complaint):
        delivery_id = verp_parse(address)
        if delivery_id is not None:
            return delivery_id, "verp"
    for message_id in itertools.islice(_message_id_candidates(inspection), _MAX_ID_CANDIDATES):
        delivery_id = message_id_parse(message_id)
        if delivery_id is not None:
            return delivery_id, "message_id"
    return None, None


def _verp_candidates(
    inspection: _Inspection, envelope_recipients: list[str], complaint: Complaint | None
) -> Iterator[str]:
    """Our VERP addresses: where the mail was sent (bounces and auto-replies go to the
    Return-Path), then the original's Return-Path and ARF's Original-Mail-From."""
    addresses = [
        *_envelope_addresses(envelope_recipients),
        *(address for name in _ADDRESSED_TO for address in _header_addresses(inspection, name)),
        *addresses_in(_field(inspection.original, "return-path")),
        *addresses_in(complaint.original_mail_from if complaint else ""),
    ]
    for address in addresses:
        if address.lower().startswith(VERP_PREFIX):
            yield address


def _message_id_candidates(inspection: _Inspection) -> Iterator[str]:
    """Message-IDs that may be ours, best first: the returned original's, the one a DSN
    names, those the mail replies to, then any in the text (non-standard bounces quote
    the original's headers)."""
    yield from _ids_in(_field(inspection.original, "message-id"))
    for text in inspection.delivery_status:
        for match in _ORIGINAL_ID_FIELD.finditer(text):
            yield from _ids_in(match.group(1))
    for name in ("in-reply-to", "references"):
        for value in inspection.headers.get(name, []):
            yield from _ids_in(value)
    for text in (inspection.text, inspection.attachment_text):
        for match in _LABELLED_ID.finditer(text):
            yield match.group(1)
        for match in _BRACKETED_ID.finditer(text):
            yield match.group(1)


def _ids_in(value: str) -> list[str]:
    found = _BRACKETED_ID.findall(value)
    return found or ([value.strip()] if "@" in value else [])
