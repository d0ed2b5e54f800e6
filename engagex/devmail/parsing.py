"""Read a captured RFC 5322 message into what the inbox shows."""

from __future__ import annotations

from dataclasses import dataclass, field
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser


@dataclass
class Attachment:
    filename: str
    content_type: str
    size: int


@dataclass
class ParsedMessage:
    subject: str
    from_: str
    to: str
    date: str
    html: str | None
    text: str | None
    headers: list[tuple[str, str]]
    attachments: list[Attachment] = field(default_factory=list)


def parse_headers(raw: bytes) -> EmailMessage:
    return BytesParser(policy=policy.default).parsebytes(raw, headersonly=True)


def parse_message(raw: bytes) -> ParsedMessage:
    message = BytesParser(policy=policy.default).parsebytes(raw)
    html = _body(message, "html")
    text = _body(message, "plain")
    attachments = [
        Attachment(
            filename=part.get_filename() or "(unnamed)",
            content_type=part.get_content_type(),
            size=len(part.get_payload(decode=True) or b""),
        )
        for part in message.iter_attachments()
    ]
    return ParsedMessage(
        subject=_header(message, "Subject"),
        from_=_header(message, "From"),
        to=_header(message, "To"),
        date=_header(message, "Date"),
        html=html,
        text=text,
        headers=[(name, _safe_str(value)) for name, value in message.items()],
        attachments=attachments,
    )


def _body(message: EmailMessage, subtype: str) -> str | None:
    try:
        part = message.get_body(preferencelist=(subtype,))
        return part.get_content() if part is not None else None
    except (LookupError, UnicodeDecodeError, AttributeError):
        # Unknown charset or broken structure: show what we can, never crash the inbox.
        payload = part.get_payload(decode=True) if part is not None else None
        return payload.decode("utf-8", errors="replace") if payload else None


def _header(message: EmailMessage, name: str) -> str:
    return _safe_str(message.get(name, ""))


def _safe_str(value) -> str:
    try:
        return str(value)
    except Exception:  # malformed encoded-words
        return repr(value)
