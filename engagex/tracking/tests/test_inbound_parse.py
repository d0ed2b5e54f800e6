"""The inbound parser against a corpus of bounces, complaints, auto-replies and
unsubscribe mails in the styles of the common mail systems (fixtures/inbound/*.eml).

The fixtures hold placeholders — {VERP}, {MESSAGE_ID}, {UNSUBSCRIBE_TOKEN} — that are
replaced with real signed tokens for a delivery id, so identification is tested end to
end. No database: the identifiers only need SECRET_KEY.
"""

from __future__ import annotations

import base64
import dataclasses
import random
from dataclasses import dataclass
from pathlib import Path

import pytest

from engagex.delivery.identifiers import message_id_for, unsubscribe_token, verp_address
from engagex.tracking.inbound_parse import InboundReport, parse_inbound

FIXTURES = Path(__file__).parent / "fixtures" / "inbound"
BOUNCE_DOMAIN = "bounces.acme.example"
MESSAGE_ID_DOMAIN = "mail.acme.example"
KINDS = {"bounce", "complaint", "unsubscribe", "auto_reply", "unknown"}
FOREIGN_MESSAGE_ID = "<20240604091240.5521@mailer.other.example>"


def load(name: str, delivery_id: int, **replacements: str) -> bytes:
    """A fixture with its placeholders filled in for `delivery_id` (or as given)."""
    values = {
        "VERP": verp_address(delivery_id, BOUNCE_DOMAIN),
        "MESSAGE_ID": message_id_for(delivery_id, MESSAGE_ID_DOMAIN),
        "UNSUBSCRIBE_TOKEN": unsubscribe_token(delivery_id),
        **replacements,
    }
    raw = (FIXTURES / name).read_bytes()
    for placeholder, value in values.items():
        raw = raw.replace(b"{%s}" % placeholder.encode(), value.encode())
    return raw


def forged_verp(delivery_id: int) -> str:
    """Our VERP format for `delivery_id` with a MAC that doesn't verify."""
    local, domain = verp_address(delivery_id, BOUNCE_DOMAIN).split("@")
    token, mac = local.rsplit("-", 1)
    forged_mac = "".join("b" if char == "a" else "a" for char in mac)  # every character differs
    return f"{token}-{forged_mac}@{domain}"


@dataclass(frozen=True)
class Expected:
    kind: str
    method: str | None  # how the delivery is found: "verp", "message_id", None
    recipient: str = ""  # bounce: the first recipient; complaint: who complained
    severity: str = ""  # bounce: of the first recipient
    status: str = ""
    action: str = ""
    feedback_type: str = ""


CORPUS = {
    # Postfix: RFC 3464 DSNs
    "postfix_hard_511.eml": Expected(
        "bounce", "verp", "dana@example.com", "hard", "5.1.1", "failed"
    ),
    "postfix_delayed_422.eml": Expected(
        "bounce", "verp", "sofia@example.net", "soft", "4.2.2", "delayed"
    ),
    "postfix_multi_recipient.eml": Expected(
        "bounce", "message_id", "ana@example.com", "hard", "5.1.1", "failed"
    ),
    "postfix_relayed_success.eml": Expected(
        "bounce", "verp", "lena@example.org", "none", "2.0.0", "relayed"
    ),
    "yahoo_policy_579.eml": Expected(
        "bounce", "verp", "robin@yahoo.example", "policy", "5.7.9", "failed"
    ),
    # Exim and qmail: plain text, no delivery-status part
    "exim_hard_plain.eml": Expected(
        "bounce", "verp", "jane@example.org", "hard", "5.1.1", "failed"
    ),
    "exim_delay_warning.eml": Expected(
        "bounce", "verp", "sam@example.net", "soft", "4.7.1", "delayed"
    ),
    "qmail_plain.eml": Expected("bounce", "verp", "bob@example.net", "hard", "5.1.1", "failed"),
    # A small provider's bounce sent to the From address: no codes, only words, and the
    # original's Message-ID quoted in the text.
    "plain_bounce_to_from_address.eml": Expected(
        "bounce", "message_id", "maria@smallhost.example", "hard", "", "failed"
    ),
    # Exchange / Office 365
    "exchange_5110_html.eml": Expected(
        "bounce", "verp", "nobody@contoso.example", "hard", "5.1.10", "failed"
    ),
    "exchange_541_rfc822_headers.eml": Expected(
        "bounce", "message_id", "chris@fabrikam.example", "hard", "5.4.1", "failed"
    ),
    "exchange_571_policy.eml": Expected(
        "bounce", "verp", "pat.lee@northwind.example", "policy", "5.7.1", "failed"
    ),
    # Gmail
    "gmail_511.eml": Expected("bounce", "verp", "alex@example.com", "hard", "5.1.1", "failed"),
    "gmail_522_mailbox_full.eml": Expected(
        "bounce", "verp", "morgan@example.com", "soft", "5.2.2", "failed"
    ),
    "gmail_421_rate_limited.eml": Expected(
        "bounce", "verp", "taylor@example.com", "soft", "4.2.1", "delayed"
    ),
    # Sendmail: generic Status 5.0.0, the real code is in Diagnostic-Code
    "sendmail_generic_status.eml": Expected(
        "bounce", "message_id", "pat@example.com", "hard", "5.1.1", "failed"
    ),
    # Broken ones
    "malformed_truncated_dsn.eml": Expected(
        "bounce", "verp", "tom@example.net", "hard", "", "failed"
    ),
    "wrong_charset_bounce.eml": Expected(
        "bounce", "verp", "karl.müller@example.de", "hard", "5.1.1", "failed"
    ),
    # Complaints
    "arf_generic_abuse.eml": Expected(
        "complaint", "verp", "lee@isp.example.net", feedback_type="abuse"
    ),
    "arf_yahoo_abuse.eml": Expected(
        "complaint", "message_id", "casey@yahoo.example", feedback_type="abuse"
    ),
    "arf_not_spam_headers_only.eml": Expected(
        "complaint", "message_id", "drew@mailbox.example", feedback_type="not-spam"
    ),
    "jmrp_complaint.eml": Expected(
        "complaint", "message_id", "kim@outlook.example", feedback_type="abuse"
    ),
    # Auto-replies
    "auto_reply_out_of_office.eml": Expected("auto_reply", "verp"),
    "auto_reply_exchange.eml": Expected("auto_reply", "message_id"),
    "auto_reply_vacation_subject_only.eml": Expected("auto_reply", "verp"),
    # The List-Unsubscribe mailto
    "unsubscribe_request.eml": Expected("unsubscribe", None),
}
# Each fixture gets its own delivery id, so a result can't come from another one's tokens.
DELIVERY_IDS = {name: 70_000 + index * 37 for index, name in enumerate(sorted(CORPUS))}
AUTO_REPLIES = [name for name, expected in CORPUS.items() if expected.kind == "auto_reply"]


def test_every_fixture_has_an_expectation():
    assert {path.name for path in FIXTURES.glob("*.eml")} == set(CORPUS)


@pytest.mark.parametrize(("name", "expected"), CORPUS.items(), ids=list(CORPUS))
def test_corpus(name, expected):
    delivery_id = DELIVERY_IDS[name]
    report = parse_inbound(load(name, delivery_id))

    assert report.kind == expected.kind, report.reason
    assert report.delivery_id_method == expected.method
    assert report.delivery_id == (delivery_id if expected.method else None)
    if expected.kind == "bounce":
        first = report.recipients[0]
        assert first.recipient == expected.recipient
        assert first.severity == expected.severity
        assert first.status == expected.status
        assert first.action == expected.action
        assert first.diagnostic  # the reason is always shown to the user
    else:
        assert report.recipients == ()
    if expected.kind == "complaint":
        assert report.complaint.feedback_type == expected.feedback_type
        assert report.complaint.original_recipient == expected.recipient
    else:
        assert report.complaint is None
    if expected.kind == "unsubscribe":
        assert report.unsubscribe_token == unsubscribe_token(delivery_id)
    else:
        assert report.unsubscribe_token == ""


@pytest.mark.parametrize("name", sorted(CORPUS))
def test_line_endings_do_not_matter(name):
    raw = load(name, DELIVERY_IDS[name])
    with_crlf = raw.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")
    assert parse_inbound(with_crlf) == parse_inbound(raw)


@pytest.mark.parametrize("name", sorted(CORPUS))
def test_every_text_is_storable(name):
    """No undecodable bytes (lone surrogates) or NULs reach what the intake stores."""
    report = parse_inbound(load(name, DELIVERY_IDS[name]))
    texts = [report.reason, report.subject, report.sender, report.original_message_id]
    texts += [report.unsubscribe_token]
    for result in report.recipients:
        texts += [str(value) for value in dataclasses.astuple(result)]
    if report.complaint:
        texts += dataclasses.astuple(report.complaint)
    for text in texts:
        text.encode("utf-8")  # raises on a lone surrogate
        assert "\x00" not in text


# --- details of the corpus that matter to the user ------------------------------------------


def test_multi_recipient_dsn_reports_each_recipient():
    report = parse_inbound(load("postfix_multi_recipient.eml", 5))
    results = {r.recipient: (r.action, r.status, r.severity) for r in report.recipients}
    assert results == {
        "ana@example.com": ("failed", "5.1.1", "hard"),
        "ben@example.org": ("delayed", "4.4.1", "soft"),
    }
    assert report.severity == "hard"


def test_gmail_diagnostic_reads_as_one_sentence():
    report = parse_inbound(load("gmail_511.eml", 5))
    result = report.recipients[0]
    assert result.diagnostic.startswith(
        "550 5.1.1 The email account that you tried to reach does not exist. Please try "
        "double-checking"
    )
    assert "550-5.1.1" not in result.diagnostic
    assert result.remote_mta == "aspmx.l.google.com"


def test_wrong_charset_and_8bit_headers_are_decoded_sensibly():
    report = parse_inbound(load("wrong_charset_bounce.eml", 5))
    assert report.subject.startswith("Unzustellbar: Ihre Bestellbestätigung")
    assert "Empfänger unbekannt" in report.recipients[0].diagnostic


def test_complaint_keeps_the_report_details():
    complaint = parse_inbound(load("arf_generic_abuse.eml", 5)).complaint
    assert complaint.user_agent == "ExampleISP-FBL/1.4"
    assert complaint.source_ip == "192.0.2.10"
    assert complaint.reported_domain == "acme.example"
    assert complaint.original_mail_from == verp_address(5, BOUNCE_DOMAIN)


def test_original_message_id_is_reported():
    report = parse_inbound(load("postfix_hard_511.eml", 5))
    assert report.original_message_id == message_id_for(5, MESSAGE_ID_DOMAIN)


# --- identifying the delivery -----------------------------------------------------------------


def test_forged_verp_is_not_trusted():
    raw = load("postfix_hard_511.eml", 5, VERP=forged_verp(5), MESSAGE_ID=FOREIGN_MESSAGE_ID)
    report = parse_inbound(raw)
    assert report.kind == "bounce"
    assert report.recipients[0].severity == "hard"
    assert (report.delivery_id, report.delivery_id_method) == (None, None)


def test_forged_verp_falls_back_to_a_genuine_message_id():
    report = parse_inbound(load("postfix_hard_511.eml", 5, VERP=forged_verp(5)))
    assert (report.delivery_id, report.delivery_id_method) == (5, "message_id")


@pytest.mark.parametrize(
    "message_id",
    [
        FOREIGN_MESSAGE_ID,
        f"<d5.aaaaaaaa@{MESSAGE_ID_DOMAIN}>",  # our format, a MAC that doesn't verify
        message_id_for(5, MESSAGE_ID_DOMAIN).replace("<d5.", "<d6."),  # another id
    ],
)
@pytest.mark.parametrize(
    "name", ["sendmail_generic_status.eml", "plain_bounce_to_from_address.eml"]
)
def test_bounce_for_an_unknown_message_id_has_no_delivery(name, message_id):
    report = parse_inbound(load(name, 5, MESSAGE_ID=message_id))
    assert report.kind == "bounce"
    assert (report.delivery_id, report.delivery_id_method) == (None, None)


def test_envelope_recipient_is_used_first():
    raw = load("sendmail_generic_status.eml", 5)  # To: bounces@…, Message-ID of delivery 5
    envelope = [verp_address(9, BOUNCE_DOMAIN)]
    report = parse_inbound(raw, envelope_recipients=envelope)
    assert (report.delivery_id, report.delivery_id_method) == (9, "verp")


def test_complaint_found_through_the_original_return_path():
    # No Original-Mail-From and a foreign Message-ID: only the original's Return-Path.
    raw = load("arf_generic_abuse.eml", 5, MESSAGE_ID=FOREIGN_MESSAGE_ID)
    raw = raw.replace(b"Original-Mail-From: <" + verp_address(5, BOUNCE_DOMAIN).encode(), b"X:<")
    report = parse_inbound(raw)
    assert (report.delivery_id, report.delivery_id_method) == (5, "verp")


# --- classification from status codes and words -------------------------------------------


def make_dsn(action: str, status: str, diagnostic: str, recipient: str = "x@example.com"):
    fields = [f"Final-Recipient: rfc822; {recipient}"]
    fields += [f"Action: {action}"] if action else []
    fields += [f"Status: {status}"] if status else []
    fields += [f"Diagnostic-Code: {diagnostic}"] if diagnostic else []
    return (
        "From: MAILER-DAEMON@mx.example.net\r\n"
        "To: bounces@acme.example\r\n"
        "Subject: Undelivered Mail Returned to Sender\r\n"
        "MIME-Version: 1.0\r\n"
        'Content-Type: multipart/report; report-type=delivery-status; boundary="b"\r\n'
        "\r\n--b\r\nContent-Type: text/plain\r\n\r\nYour message could not be delivered.\r\n"
        "\r\n--b\r\nContent-Type: message/delivery-status\r\n\r\n"
        "Reporting-MTA: dns; mx.example.net\r\n\r\n" + "\r\n".join(fields) + "\r\n\r\n--b--\r\n"
    ).encode()


@pytest.mark.parametrize(
    ("action", "status", "diagnostic", "severity", "effective_status"),
    [
        ("failed", "5.1.1", "smtp; 550 5.1.1 user unknown", "hard", "5.1.1"),
        ("failed", "5.1.10", "smtp; 550 5.1.10 RecipientNotFound", "hard", "5.1.10"),
        ("failed", "5.4.4", "smtp; 550 5.4.4 unrouteable address", "hard", "5.4.4"),
        ("failed", "5.0.0", "", "hard", "5.0.0"),
        ("failed", "5.2.2", "smtp; 552 5.2.2 Mailbox full", "soft", "5.2.2"),
        ("failed", "5.2.1", "smtp; 550 5.2.1 mailbox disabled", "soft", "5.2.1"),
        ("failed", "4.4.7", "", "soft", "4.4.7"),
        ("delayed", "4.4.1", "X-Postfix; connection timed out", "soft", "4.4.1"),
        ("delayed", "5.1.1", "", "soft", "5.1.1"),  # still being retried
        ("failed", "5.7.1", "smtp; 550 5.7.1 rejected by policy", "policy", "5.7.1"),
        ("failed", "5.7.26", "smtp; 550 5.7.26 unauthenticated mail", "policy", "5.7.26"),
        # our own sender domain is the problem, not the contact's address
        ("failed", "5.1.8", "smtp; 553 5.1.8 sender domain does not exist", "policy", "5.1.8"),
        # generic Status: the Diagnostic-Code's enhanced code decides
        ("failed", "5.0.0", "smtp; 550 5.7.1 Client host blocked", "policy", "5.7.1"),
        ("failed", "5.0.0", "smtp; 550-5.2.2 over quota", "soft", "5.2.2"),
        ("failed", "5.5.0", "smtp; 550 5.5.0 mailbox unavailable", "hard", "5.5.0"),
        # no Status: the Diagnostic-Code's codes, then its words, then the reply code
        ("failed", "", "smtp; 550 5.1.1 <x@example.com>: User unknown", "hard", "5.1.1"),
        ("failed", "", "smtp; 550 No such user here", "hard", ""),
        ("failed", "", "smtp; 552 Requested action aborted: exceeded storage", "soft", ""),
        ("failed", "", "smtp; 550 Mailbox is over quota", "soft", ""),
        ("failed", "", "smtp; 554 Your IP is on our blacklist", "policy", ""),
        ("failed", "", "smtp; 550 Message rejected", "hard", ""),
        ("", "5.1.1", "", "hard", "5.1.1"),  # no Action: failed, from the code
        ("delivered", "2.0.0", "smtp; 250 2.0.0 OK", "none", "2.0.0"),
        ("relayed", "2.0.0", "", "none", "2.0.0"),
        ("expanded", "2.0.0", "", "none", "2.0.0"),
    ],
)
def test_classification(action, status, diagnostic, severity, effective_status):
    report = parse_inbound(make_dsn(action, status, diagnostic))
    assert report.kind == "bounce"
    (result,) = report.recipients
    assert (result.severity, result.status) == (severity, effective_status)
    assert result.recipient == "x@example.com"


def report_with_part(content_type: str, headers: str, body: str) -> bytes:
    return (
        "From: MAILER-DAEMON@mx.example.net\r\nSubject: Undeliverable\r\n"
        f"MIME-Version: 1.0\r\nContent-Type: multipart/report; report-type={content_type}; "
        'boundary="b"\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nFailed.\r\n'
        f"--b\r\nContent-Type: message/{content_type}\r\n{headers}\r\n{body}\r\n--b--\r\n"
    ).encode()


def test_base64_encoded_delivery_status_is_read():
    fields = (
        "Reporting-MTA: dns; mx.example.net\r\n\r\nFinal-Recipient: rfc822; x@example.com\r\n"
        "Action: failed\r\nStatus: 5.2.2\r\nDiagnostic-Code: smtp; 552 5.2.2 Mailbox full\r\n"
    )
    body = base64.encodebytes(fields.encode()).decode()
    raw = report_with_part("delivery-status", "Content-Transfer-Encoding: base64\r\n", body)
    (result,) = parse_inbound(raw).recipients
    assert (result.recipient, result.status, result.severity) == ("x@example.com", "5.2.2", "soft")


def test_global_delivery_status_with_utf8_address():
    body = (
        "Reporting-MTA: dns; mx.example.net\r\n\r\n"
        "Final-Recipient: utf-8; j\\x{FC}rgen@example.de\r\nAction: failed\r\nStatus: 5.1.1\r\n"
    )
    (result,) = parse_inbound(report_with_part("global-delivery-status", "", body)).recipients
    assert (result.recipient, result.severity) == ("jürgen@example.de", "hard")


def test_diagnostic_is_unfolded_and_trimmed():
    long_text = " ".join(f"word{i}" for i in range(2000))
    report = parse_inbound(make_dsn("failed", "5.1.1", "smtp; 550 5.1.1\r\n " + long_text))
    diagnostic = report.recipients[0].diagnostic
    assert diagnostic.startswith("550 5.1.1 word0 word1")
    assert 400 <= len(diagnostic) <= 501
    assert "\n" not in diagnostic


# --- auto-replies and unsubscribes ----------------------------------------------------------


@pytest.mark.parametrize("name", AUTO_REPLIES)
def test_auto_reply_is_never_a_bounce(name):
    report = parse_inbound(load(name, 5))
    assert report.kind == "auto_reply"
    assert report.recipients == ()


@pytest.mark.parametrize(
    "headers",
    [
        "Auto-Submitted: auto-replied\r\nSubject: Re: Your June deals",
        "X-Autoreply: yes\r\nSubject: Automatic reply: Undeliverable",
        "Precedence: auto_reply\r\nSubject: Returned mail",
        "Subject: Out of office: Mail delivery failed",
    ],
)
def test_auto_reply_with_bounce_wording_is_still_an_auto_reply(headers):
    raw = (
        f"From: Jordan Smith <jordan@example.com>\r\nTo: news@acme.example\r\n{headers}\r\n"
        "\r\nI am away. Your message could not be delivered to my team: user unknown.\r\n"
        "  jordan@example.com\r\n    550 5.1.1 no such user\r\n"
    ).encode()
    report = parse_inbound(raw)
    assert report.kind == "auto_reply"
    assert report.recipients == ()


@pytest.mark.parametrize(
    "subject",
    ["{token}", "Re: {token}", "AW: Fwd: {token}", "RE:   {token}  ", "=?utf-8?q?Re=3A_{token}?="],
)
def test_unsubscribe_token_is_taken_from_the_subject(subject):
    token = unsubscribe_token(12)
    raw = (
        "From: casey@example.com\r\nTo: Acme <news@acme.example>\r\n"
        f"Subject: {subject.format(token=token)}\r\n\r\nunsubscribe\r\n"
    ).encode()
    report = parse_inbound(raw, envelope_recipients=["unsubscribe@bounces.acme.example"])
    assert report.kind == "unsubscribe"
    assert report.unsubscribe_token == token


def test_mail_to_another_mailbox_is_not_an_unsubscribe():
    raw = b"From: casey@example.com\r\nTo: unsubscribe@bounces.acme.example\r\nSubject: x\r\n\r\n"
    report = parse_inbound(raw, envelope_recipients=["bounces@acme.example"])
    assert report.kind == "unknown"


def test_ordinary_mail_is_unknown():
    raw = (
        b"From: casey@example.com\r\nTo: news@acme.example\r\nSubject: Question\r\n"
        b"Message-ID: <q1@example.com>\r\n\r\nDo you ship to Norway?\r\n"
    )
    report = parse_inbound(raw)
    assert report.kind == "unknown"
    assert report.reason


# --- hostile input ------------------------------------------------------------------------


def nested_multiparts(depth: int) -> bytes:
    head = b"".join(
        b'Content-Type: multipart/mixed; boundary="n%d"\r\n\r\n--n%d\r\n' % (i, i)
        for i in range(depth)
    )
    return b"From: a@example.com\r\n" + head + b"Content-Type: text/plain\r\n\r\nx\r\n"


GARBAGE = {
    "empty": b"",
    "whitespace": b" \r\n\t\r\n",
    "nul bytes": b"\x00" * 1000,
    "random bytes": random.Random(5).randbytes(100_000),
    "text without headers": b"this is not an email at all\njust some text\n",
    "binary after a header": b"X: y\r\n\r\n" + random.Random(6).randbytes(10_000),
    "only boundaries": b"--b\r\n" * 5000,
    "deep nesting": nested_multiparts(500),
    "empty boundary": b"Content-Type: multipart/report; boundary=\r\n\r\n--\r\n--\r\n",
    "bad base64 report": b"Content-Type: multipart/report; report-type=delivery-status; "
    b"boundary=b\r\n\r\n--b\r\nContent-Type: message/delivery-status\r\n"
    b"Content-Transfer-Encoding: base64\r\n\r\n!!!not base64!!!\r\n--b--\r\n",
    "rfc2231 garbage": b"Content-Type: text/plain; charset*=x''%ff%fe%00\r\n"
    b"Subject: =?utf-8?b?////?= =?x-nope?q?=ZZ?=\r\n\r\nbody\r\n",
    "codec that is not text": b"Content-Type: text/plain; charset=rot13\r\n\r\nbody\r\n",
    "header without end": b"Subject: " + b"a" * 2_000_000,
}


@pytest.mark.parametrize("raw", GARBAGE.values(), ids=list(GARBAGE))
def test_garbage_never_raises(raw):
    report = parse_inbound(raw)
    assert isinstance(report, InboundReport)
    assert report.kind in KINDS
    assert report.reason


@pytest.mark.parametrize("raw", [b"", b"\x00\xff" * 100, b"not mail\n", None, 42, "str"])
def test_nonsense_is_unknown(raw):
    report = parse_inbound(raw)
    assert report.kind == "unknown"
    assert report.reason


@pytest.mark.parametrize("name", sorted(CORPUS))
def test_truncated_fixtures_never_raise(name):
    raw = load(name, DELIVERY_IDS[name])
    for cut in range(0, len(raw), max(1, len(raw) // 40)):
        assert parse_inbound(raw[:cut]).kind in KINDS


def huge_bounce(attachment_first: bool = False) -> bytes:
    """A DSN whose returned original carries a 10 MB attachment (or, with
    `attachment_first`, a DSN with a 10 MB part before its report parts)."""
    attachment = base64.encodebytes(random.Random(7).randbytes(10 * 1024 * 1024))
    attachment = attachment.replace(b"\n", b"\r\n")
    pdf = (
        b"Content-Type: application/pdf; name=catalogue.pdf\r\n"
        b"Content-Transfer-Encoding: base64\r\n"
        b"Content-Disposition: attachment; filename=catalogue.pdf\r\n\r\n" + attachment
    )
    original = (
        b"Content-Type: message/rfc822\r\n\r\n"
        b"From: Acme Shop <news@acme.example>\r\nTo: dana@example.com\r\n"
        b"Message-ID: " + message_id_for(5, MESSAGE_ID_DOMAIN).encode() + b"\r\n"
        b'Content-Type: multipart/mixed; boundary="inner"\r\n\r\n'
        b"--inner\r\nContent-Type: text/plain\r\n\r\nOur catalogue is attached.\r\n"
        b"--inner\r\n" + pdf + b"--inner--\r\n"
    )
    parts = [
        b"Content-Type: text/plain\r\n\r\nYour message could not be delivered.\r\n",
        b"Content-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; mx.example.com\r\n"
        b"\r\nFinal-Recipient: rfc822; dana@example.com\r\nAction: failed\r\n"
        b"Status: 5.1.1\r\nDiagnostic-Code: smtp; 550 5.1.1 User unknown\r\n",
        original,
    ]
    if attachment_first:
        parts.insert(0, pdf)
    return (
        b"From: MAILER-DAEMON@mx.example.com\r\nTo: bounces@acme.example\r\n"
        b"Subject: Undelivered Mail Returned to Sender\r\nMIME-Version: 1.0\r\n"
        b'Content-Type: multipart/report; report-type=delivery-status; boundary="outer"\r\n'
        b"\r\n" + b"".join(b"--outer\r\n" + part + b"\r\n" for part in parts) + b"--outer--\r\n"
    )


@pytest.mark.parametrize("attachment_first", [False, True])
def test_bounce_with_a_huge_attachment(attachment_first):
    raw = huge_bounce(attachment_first)
    assert len(raw) > 10 * 1024 * 1024
    report = parse_inbound(raw)
    assert report.kind == "bounce"
    (result,) = report.recipients
    assert (result.recipient, result.status, result.severity) == (
        "dana@example.com",
        "5.1.1",
        "hard",
    )
    assert (report.delivery_id, report.delivery_id_method) == (5, "message_id")


def test_huge_plain_auto_reply():
    raw = (
        b"From: jordan@example.com\r\nTo: " + verp_address(5, BOUNCE_DOMAIN).encode() + b"\r\n"
        b"Subject: Out of office\r\nAuto-Submitted: auto-replied\r\n\r\n" + b"away " * 3_000_000
    )
    report = parse_inbound(raw)
    assert (report.kind, report.delivery_id) == ("auto_reply", 5)
