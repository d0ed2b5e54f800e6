"""Complaints: feedback-loop reports in the Abuse Reporting Format (RFC 5965) and the
non-ARF reports some mailbox providers send (Microsoft's JMRP: the complained-about
message attached to a short note, no feedback-report part).

Text and header fields in, a `Complaint` out; `inbound_parse` finds the MIME parts.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from engagex.tracking.dsn import Fields, addresses_in, field

# A report without a Feedback-Type comes from someone pressing "this is spam": the
# only thing a feedback loop reports when it doesn't say otherwise.
DEFAULT_FEEDBACK_TYPE = "abuse"


@dataclass(frozen=True)
class Complaint:
    """One feedback-loop report about one message we sent."""

    feedback_type: str  # abuse, fraud, virus, not-spam, other, … (lower case)
    original_recipient: str  # who complained (often redacted by the provider), or ""
    original_mail_from: str  # envelope sender of the original (our VERP address), or ""
    user_agent: str  # the reporting software, e.g. "Yahoo!-Mail-Feedback/2.0"
    source_ip: str  # the IP address the original came from
    reported_domain: str
    arrival_date: str


def parse_feedback_report(report: Fields, original: Fields) -> Complaint:
    """`report`: the fields of the message/feedback-report part; `original`: the headers
    of the attached original message (empty when the report doesn't include them)."""
    feedback_type = field(report, "feedback-type").lower().split(";")[0].strip()
    return Complaint(
        feedback_type=feedback_type or DEFAULT_FEEDBACK_TYPE,
        original_recipient=_first_address(field(report, "original-rcpt-to"))
        or original_recipient(original),
        original_mail_from=_first_address(field(report, "original-mail-from"))
        or _first_address(field(original, "return-path")),
        user_agent=field(report, "user-agent"),
        source_ip=field(report, "source-ip"),
        reported_domain=field(report, "reported-domain"),
        arrival_date=field(report, "arrival-date") or field(report, "received-date"),
    )


def complaint_without_report(original: Fields) -> Complaint:
    """A complaint recognised by `looks_like_complaint`: all we know is in the original."""
    return parse_feedback_report({}, original)


def original_recipient(original: Fields) -> str:
    # Microsoft copies the complainer's address into X-HmXmrOriginalRecipient; otherwise
    # the original's To is the best guess (providers often redact it).
    return _first_address(field(original, "x-hmxmroriginalrecipient")) or _first_address(
        field(original, "to")
    )


def _first_address(value: str) -> str:
    addresses = addresses_in(value)
    return addresses[0] if addresses else ""


# --- complaints that are not ARF ---------------------------------------------------------

_COMPLAINT_WORDS = re.compile(
    r"abuse report|complaint|junk mail report|reported as (?:spam|junk)|"
    r"marked (?:as|this message as) (?:spam|junk)|feedback loop|spam report",
    re.IGNORECASE,
)
# Microsoft's JMRP reports come from this address.
_FBL_SENDERS = ("staff@hotmail.com",)


def looks_like_complaint(subject: str, sender: str, text: str, original: Fields) -> bool:
    """A report that attaches the original message and clearly says it is a complaint:
    Microsoft's complainer header, a known feedback-loop sender, or complaint wording in
    the subject or the note. Callers ask only when an original message is attached."""
    return (
        "x-hmxmroriginalrecipient" in original
        or sender.lower() in _FBL_SENDERS
        or bool(_COMPLAINT_WORDS.search(subject) or _COMPLAINT_WORDS.search(text[:4096]))
    )
