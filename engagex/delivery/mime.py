"""The bytes of one outgoing message: headers, MIME body, VERP envelope sender, DKIM.

The sender (DESIGN.md §5, step 3) builds thousands of messages per second on one core,
so everything that depends only on the mailing (From, Reply-To, Feedback-ID, the extra
headers, the MIME boundary, the HMAC keys) is encoded once in `MessageBuilder.__init__`;
`build()` only formats what differs per recipient (To, Subject if personalised, Date,
Message-ID, List-Unsubscribe, the two bodies) and joins pre-encoded pieces.

Why the message is assembled by hand and not with `email.message.EmailMessage`: measured
with `python -m engagex.delivery.mime` on the (slow, shared 2-vCPU) development VM, for a
40 KB HTML + 2 KB text message, `EmailMessage` + `as_bytes(policy=SMTP)` builds ~125
messages/s; this module ~3,300/s when the HTML has non-ASCII characters (base64) and
~1,200/s when it is pure ASCII with a line over 998 octets (quoted-printable, bound by
`binascii.b2a_qp` at ~0.6 ms per 40 KB) — 10-26x faster. With an RSA-2048 DKIM signature
the rates are ~700 and ~550/s: signing (~1,100/s alone, mostly the RSA operation) then
costs more than building.

Encoding decisions (each part is chosen per message, because the bodies are personalised):

- Bodies are UTF-8. An ASCII part whose lines are all ≤ 998 octets is sent as `7bit`
  (nothing to encode). An ASCII part with longer lines (css-inline output, the preheader
  padding) is `quoted-printable` (`binascii.b2a_qp`, C): base64 for pure-ASCII text is
  penalised by rspamd (MIME_BASE64_TEXT_BOGUS). A part with any non-ASCII character is
  `base64`: `binascii` encodes it ~3x faster than quoted-printable, it is the smaller
  encoding for non-Latin scripts, SpamAssassin does not score base64 text with
  charset=utf-8, and its output has no whitespace, which makes the DKIM signer's relaxed
  body canonicalisation nearly free (QP keeps HTML indentation runs that the signer must
  collapse). `8bit` is never used: a relay without 8BITMIME would re-encode the part and
  break the DKIM signature (RFC 6376 §5.3).
- Subject and display names: ASCII stays literal (folded at spaces to ≤ 78 columns);
  anything non-ASCII becomes RFC 2047 encoded-words, Q or B whichever is shorter, each
  word a whole number of characters and every such line ≤ 76 columns. ASCII is never
  encoded: rspamd scores "unnecessarily encoded" subjects (SUBJ_EXCESS_QP/BASE64).
- Header injection: CR, LF and other control characters in the subject, names and header
  values become single spaces; addresses and URLs containing them are rejected
  (ValueError) — those come from validated data, so a bad one is a bug, not content.
- No `Precedence: bulk`: RFC 2076 lists it as non-standard, Google's current sender
  guidelines no longer ask for it (older versions did), and List-Unsubscribe already marks
  the mail as list traffic. Its one real effect — fewer vacation auto-replies to the
  Return-Path — does not apply cleanly either: auto-replies arrive at the VERP address and
  the bounce handler has to tell them from DSNs anyway. A mailing can still add it through
  `extra_headers`.
- Internationalised addresses: domains are converted to IDNA A-labels (UTS #46) for the
  envelope and the headers. A non-ASCII local part cannot be expressed in 7-bit headers, so
  it is written as raw UTF-8 (RFC 6532) and `BuiltMessage.needs_smtputf8` is set: the
  transport must use SMTPUTF8 or fail that delivery permanently.

Identifiers derived from the delivery id (DESIGN.md §5, step 6: a retry after a crash
produces the same ids, so a duplicate is recognisable):

- Message-ID: ``<d{delivery_id}.{mac}@{domain}>`` — the decimal id (greppable in logs and
  in feedback-loop reports) and 8 base32 characters (40 bits) of an HMAC keyed from
  SECRET_KEY, so ids are not enumerable. `message_id_parse` maps one back.
- VERP return path: ``bounce+{base36 id}-{mac}@{bounce_domain}`` with a 10-character
  (50-bit) base32 HMAC, lower case so a relay that lowercases local parts does not break
  it; `verp_parse` returns the delivery id only when the MAC verifies, so a forged bounce
  cannot be pinned on another delivery. Both parsers also accept SECRET_KEY_FALLBACKS so a
  key rotation doesn't orphan bounces of mail already sent.
"""

from __future__ import annotations

import binascii
import re
import secrets
import struct
import time
from dataclasses import dataclass
from itertools import chain
from typing import TYPE_CHECKING
from urllib.parse import quote

from django.conf import settings

from engagex.delivery.identifiers import (
    VERP_PREFIX,
    ascii_domain,
    check_delivery_id,
    current_keys,
    message_id_for,
    message_id_parse,
    message_id_with_key,
    verp_address,
    verp_parse,
    verp_with_key,
)

if TYPE_CHECKING:
    from engagex.delivery.dkim import DkimSigner


__all__ = [
    "VERP_PREFIX",
    "BuiltMessage",
    "MailingEnvelope",
    "MessageBuilder",
    "ascii_domain",
    "message_id_for",
    "message_id_parse",
    "rfc5322_date",
    "verp_address",
    "verp_parse",
]


_LINE = 78  # RFC 5322 §2.1.1: lines SHOULD be at most 78 characters
_EW_LINE = 76  # RFC 2047 §2: a line containing an encoded-word at most 76
_EW_MAX = 75  # RFC 2047 §2: one encoded-word at most 75
_LONGEST_WORD = 900  # a header "word" longer than this cannot be folded under 998 octets

# Reserved header names a mailing's extra_headers may not set: the builder owns them.
_RESERVED_HEADERS = frozenset(
    {
        "bcc",
        "cc",
        "content-transfer-encoding",
        "content-type",
        "date",
        "dkim-signature",
        "feedback-id",
        "from",
        "list-unsubscribe",
        "list-unsubscribe-post",
        "message-id",
        "mime-version",
        "received",
        "reply-to",
        "return-path",
        "sender",
        "subject",
        "to",
    }
)


@dataclass(frozen=True, slots=True)
class MailingEnvelope:
    """The per-mailing part of every message (frozen when the mailing starts)."""

    organization_id: str
    mailing_id: str
    from_name: str
    from_email: str
    reply_to: str = ""
    # VERP: Return-Path bounce+<token>@<bounce_domain>; also the Message-ID domain if set.
    bounce_domain: str = ""
    # Domain for Message-ID; falls back to bounce_domain, then to from_email's domain.
    message_id_domain: str = ""
    # e.g. "<mailing_id>:<organization_id>:campaign:engagex" (Gmail's Feedback-ID header).
    feedback_id: str = ""
    # e.g. (("X-EngageX-Campaign", id),); names the builder sets itself are refused.
    extra_headers: tuple[tuple[str, str], ...] = ()
    # e.g. "unsubscribe@bounces.example.com": List-Unsubscribe mailto with ?subject=<token>.
    unsubscribe_mailto: str = ""


@dataclass(frozen=True, slots=True)
class BuiltMessage:
    mail_from: str  # SMTP MAIL FROM: the VERP address (or From when no bounce domain)
    rcpt_to: str  # SMTP RCPT TO, domain in IDNA A-label form
    message_id: str  # with angle brackets, as in the header
    data: bytes  # the message, CRLF line endings, DKIM-signed if a signer was given
    needs_smtputf8: bool = False  # a non-ASCII local part: send with SMTPUTF8


# --- dates ------------------------------------------------------------------------------

_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_date_cache: tuple[int, str] = (-1, "")


def rfc5322_date(timestamp: float | None = None) -> str:
    """An RFC 5322 date in UTC; formatted once per second (a tuple swap is thread-safe)."""
    global _date_cache
    second = int(time.time() if timestamp is None else timestamp)
    cached = _date_cache
    if cached[0] == second:
        return cached[1]
    t = time.gmtime(second)
    text = (
        f"{_DAYS[t.tm_wday]}, {t.tm_mday:02d} {_MONTHS[t.tm_mon - 1]} {t.tm_year} "
        f"{t.tm_hour:02d}:{t.tm_min:02d}:{t.tm_sec:02d} +0000"
    )
    _date_cache = (second, text)
    return text


# --- addresses --------------------------------------------------------------------------

# Characters never valid in an (unquoted) address we send to; quoted local parts are refused.
_ADDRESS_BAD = re.compile(r'[\x00-\x20\x7f-\x9f<>()\[\],;:\\"\u2028\u2029]')


def _split_address(address: str) -> tuple[str, str]:
    """(local part, A-label domain) of a bare address; ValueError if it isn't one."""
    address = address.strip()
    local, at, domain = address.rpartition("@")
    if not at or not local or not domain or "@" in local or _ADDRESS_BAD.search(address):
        raise ValueError(f"invalid email address: {address!r}")
    return local, ascii_domain(domain)


# --- header encoding --------------------------------------------------------------------

# Controls, DEL, C1 controls and Unicode line separators: never allowed into a header.
_HEADER_SPACE = re.compile(r"[\x00-\x20\x7f-\x9f\u2028\u2029]+")


def _clean(text: str) -> str:
    """One line of display text: control characters and runs of spaces become one space."""
    if text.isprintable() and "  " not in text:
        return text.strip()
    return _HEADER_SPACE.sub(" ", text).strip()


# RFC 2047 §5(3): in a phrase, only these may appear literally inside a Q encoded-word.
_Q_LITERAL = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789!*+-/")
_q_memo: dict[str, str] = {}


def _q_char(char: str) -> str:
    encoded = _q_memo.get(char)
    if encoded is None:
        if char in _Q_LITERAL:
            encoded = char
        elif char == " ":
            encoded = "_"
        else:
            encoded = "".join(f"={byte:02X}" for byte in char.encode("utf-8", "replace"))
        if len(_q_memo) < 4096:
            _q_memo[char] = encoded
    return encoded


def _encoded_words(text: str, first_max: int) -> list[str]:
    """`text` as RFC 2047 encoded-words (Q or B, whichever is shorter)."""
    first_max = max(first_max, 20)  # after a very long header name the line runs over
    q_parts = [_q_char(char) for char in text]
    q_length = sum(map(len, q_parts))
    utf8 = [char.encode("utf-8", "replace") for char in text]
    b_length = (sum(map(len, utf8)) + 2) // 3 * 4
    words: list[str] = []
    limit = first_max
    if q_length <= b_length:
        current: list[str] = []
        size = 0
        for part in q_parts:
            if current and size + len(part) > limit - 12:  # 12: "=?UTF-8?Q?" + "?="
                words.append("=?UTF-8?Q?" + "".join(current) + "?=")
                current, size, limit = [], 0, _EW_MAX
            current.append(part)
            size += len(part)
        words.append("=?UTF-8?Q?" + "".join(current) + "?=")
    else:
        chunk: list[bytes] = []
        size = 0
        for encoded in utf8:
            if chunk and size + len(encoded) > (limit - 12) // 4 * 3:
                words.append(
                    "=?UTF-8?B?"
                    + binascii.b2a_base64(b"".join(chunk), newline=False).decode()
                    + "?="
                )
                chunk, size, limit = [], 0, _EW_MAX
            chunk.append(encoded)
            size += len(encoded)
        words.append(
            "=?UTF-8?B?" + binascii.b2a_base64(b"".join(chunk), newline=False).decode() + "?="
        )
    return words


def _fold(prefix_length: int, tokens: list[str], limit: int) -> str:
    """Join tokens with single spaces, starting a continuation line where one would pass
    `limit`; unfolding (deleting the CRLFs) gives back the space-joined text."""
    out = [tokens[0]]
    column = prefix_length + len(tokens[0])
    for token in tokens[1:]:
        if column + 1 + len(token) > limit:
            out.append("\r\n ")
            column = 1 + len(token)
        else:
            out.append(" ")
            column += 1 + len(token)
        out.append(token)
    return "".join(out)


def _unstructured(name: str, value: str) -> str:
    """A complete `Name: value\\r\\n` header line for free text (Subject, extra headers)."""
    value = _clean(value)
    prefix = len(name) + 2
    if not value:
        return f"{name}: \r\n"
    if value.isascii():
        tokens = value.split(" ")
        if max(map(len, tokens)) <= _LONGEST_WORD:
            return f"{name}: {_fold(prefix, tokens, _LINE)}\r\n"
    words = _encoded_words(value, _EW_LINE - prefix)
    return f"{name}: {_fold(prefix, words, _EW_LINE)}\r\n"


_ATEXT = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+"  # RFC 5322 atext
_ATOM = re.compile(_ATEXT)
_ATOM_PHRASE = re.compile(f"{_ATEXT}(?: {_ATEXT})*")


def _phrase_tokens(display_name: str, prefix: int) -> list[str]:
    """A non-ASCII display name as phrase tokens: plain atoms stay literal and each run of
    words that needs encoding becomes encoded-words (the run's spaces encoded inside).

    Encoding only the runs, as Python's own generator does, keeps short names in a single
    encoded-word: Python's address parser (unlike RFC 2047 §6.2 and mail clients) shows a
    space between two adjacent encoded-words."""
    tokens: list[str] = []
    run: list[str] = []
    for word in display_name.split(" "):
        if word.isascii() and _ATOM.fullmatch(word) and "=?" not in word:
            if run:
                tokens += _encoded_words(
                    " ".join(run), _EW_LINE - prefix if not tokens else _EW_MAX
                )
                run = []
            tokens.append(word)
        else:
            run.append(word)
    if run:
        tokens += _encoded_words(" ".join(run), _EW_LINE - prefix if not tokens else _EW_MAX)
    return tokens


def _mailbox(name: str, display_name: str, address: str) -> str:
    """A complete `Name: "Display" <address>\\r\\n` header line."""
    display_name = _clean(display_name)
    if not display_name:
        return f"{name}: {address}\r\n"
    prefix = len(name) + 2
    if display_name.isascii():
        if _ATOM_PHRASE.fullmatch(display_name):
            phrase = display_name if "=?" not in display_name else f'"{display_name}"'
        else:
            escaped = display_name.replace("\\", "\\\\").replace('"', '\\"')
            phrase = f'"{escaped}"'
        tokens = phrase.split(" ")  # FWS inside a quoted-string unfolds to the same text
        if max(map(len, tokens)) <= _LONGEST_WORD:
            return f"{name}: {_fold(prefix, [*tokens, f'<{address}>'], _LINE)}\r\n"
        tokens = _encoded_words(display_name, _EW_LINE - prefix)
    else:
        tokens = _phrase_tokens(display_name, prefix)
    return f"{name}: {_fold(prefix, [*tokens, f'<{address}>'], _EW_LINE)}\r\n"


_HEADER_NAME = re.compile(r"[!-9;-~]{1,76}")  # printable ASCII except ":" (RFC 5322 §3.6.8)
_URL = re.compile(r"https?://[!#-+\--;=?-~]+")  # visible ASCII except space " , < >
_TOKEN_SAFE = re.compile(r"[A-Za-z0-9._~-]*")


# --- bodies -----------------------------------------------------------------------------

_7BIT, _QP, _BASE64 = 0, 1, 2
# Every boundary starts with "=_", which never occurs in quoted-printable or base64 output;
# a 7bit part containing the prefix is sent as quoted-printable instead.
_BOUNDARY_PREFIX = b"=_ex"
_CTE_NAMES = ("7bit", "quoted-printable", "base64")
# Bytes that may appear in a 7bit body line: printable ASCII and TAB (LF separates lines).
_7BIT_ALLOWED = bytes(range(32, 127)) + b"\t\n"


def _encode_body(text: str, boundary: bytes) -> tuple[int, bytes]:
    """(transfer encoding, encoded body with CRLF line endings) for one text part."""
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    if text.isascii():
        raw = text.encode("ascii")
        if (
            max(map(len, raw.split(b"\n"))) <= 998
            and not raw.translate(None, _7BIT_ALLOWED)
            and boundary not in raw
        ):
            return _7BIT, raw.replace(b"\n", b"\r\n")
        # QP escapes every "=", so the boundary ("=_…") cannot occur in the output.
        return _QP, binascii.b2a_qp(raw, istext=True).replace(b"\n", b"\r\n")
    return _BASE64, _base64_lines(text.encode("utf-8", "replace").replace(b"\n", b"\r\n"))


# Cutting base64 into 76-character lines with struct.unpack creates the line objects in C:
# 4x faster than a list comprehension of slices, which cost more than the encoding itself.
_B64_BLOCK_LINES = 64
_B64_BLOCK = struct.Struct("76s" * _B64_BLOCK_LINES)
_B64_TAILS = tuple(struct.Struct("76s" * lines) for lines in range(_B64_BLOCK_LINES))


def _base64_lines(raw: bytes) -> bytes:
    encoded = binascii.b2a_base64(raw, newline=False)
    full_lines, rest = divmod(len(encoded), 76)
    blocks, tail = divmod(full_lines, _B64_BLOCK_LINES)
    cut = blocks * _B64_BLOCK.size
    lines = list(chain.from_iterable(_B64_BLOCK.iter_unpack(memoryview(encoded)[:cut])))
    lines.extend(_B64_TAILS[tail].unpack_from(encoded, cut))
    if rest:
        lines.append(encoded[-rest:])
    return b"\r\n".join(lines)


# --- the builder ------------------------------------------------------------------------


class MessageBuilder:
    """Builds the messages of one mailing; create one per mailing (or per batch)."""

    __slots__ = (
        "_closing",
        "_envelope_sender",
        "_from_line",
        "_html_heads",
        "_mailto",
        "_mid_domain",
        "_mid_key",
        "_middle_lines",
        "_signer",
        "_smtputf8",
        "_subject_cache",
        "_tail_lines",
        "_text_heads",
        "_verp_domain",
        "_verp_key",
        "envelope",
    )

    def __init__(self, envelope: MailingEnvelope, *, signer: DkimSigner | None = None):
        self.envelope = envelope
        self._signer = signer
        from_local, from_domain = _split_address(envelope.from_email)
        from_address = f"{from_local}@{from_domain}"
        smtputf8 = not from_local.isascii()
        self._from_line = _mailbox("From", envelope.from_name, from_address)

        middle = []
        if envelope.reply_to.strip():
            reply_name, reply_address = _parse_mailbox(envelope.reply_to)
            reply_local, reply_domain = _split_address(reply_address)
            smtputf8 = smtputf8 or not reply_local.isascii()
            middle.append(_mailbox("Reply-To", reply_name, f"{reply_local}@{reply_domain}"))
        self._middle_lines = "".join(middle)

        self._mailto = ""
        if envelope.unsubscribe_mailto.strip():
            mailto_local, mailto_domain = _split_address(envelope.unsubscribe_mailto)
            if not mailto_local.isascii():
                raise ValueError("the unsubscribe mailto address must be ASCII")
            self._mailto = f"{mailto_local}@{mailto_domain}"

        self._verp_domain = ascii_domain(envelope.bounce_domain) if envelope.bounce_domain else ""
        self._envelope_sender = from_address
        self._mid_domain = (
            ascii_domain(envelope.message_id_domain)
            if envelope.message_id_domain
            else self._verp_domain or from_domain
        )
        self._mid_key, self._verp_key = current_keys()
        self._smtputf8 = smtputf8

        boundary = _BOUNDARY_PREFIX.decode() + secrets.token_hex(12)
        tail = ["List-Unsubscribe-Post: List-Unsubscribe=One-Click\r\n"]
        if envelope.feedback_id.strip():
            feedback_id = _clean(envelope.feedback_id)
            if not feedback_id.isascii():
                raise ValueError("Feedback-ID must be ASCII")
            tail.append(_unstructured("Feedback-ID", feedback_id))
        for name, value in envelope.extra_headers:
            if not _HEADER_NAME.fullmatch(name):
                raise ValueError(f"invalid header name: {name!r}")
            if name.lower() in _RESERVED_HEADERS:
                raise ValueError(f"header {name!r} is set by the message builder")
            tail.append(_unstructured(name, value))
        tail.append("MIME-Version: 1.0\r\n")
        tail.append(f'Content-Type: multipart/alternative; boundary="{boundary}"\r\n\r\n')
        self._tail_lines = "".join(tail)

        delimiter = f"--{boundary}\r\n"
        self._text_heads = tuple(
            (
                f"{delimiter}Content-Type: text/plain; charset=utf-8\r\n"
                f"Content-Transfer-Encoding: {cte}\r\n\r\n"
            ).encode("ascii")
            for cte in _CTE_NAMES
        )
        self._html_heads = tuple(
            (
                f"\r\n{delimiter}Content-Type: text/html; charset=utf-8\r\n"
                f"Content-Transfer-Encoding: {cte}\r\n\r\n"
            ).encode("ascii")
            for cte in _CTE_NAMES
        )
        self._closing = f"\r\n--{boundary}--\r\n".encode("ascii")
        self._subject_cache: tuple[str, str] = ("", "Subject: \r\n")

    def build(
        self,
        *,
        delivery_id: int,
        to_email: str,
        to_name: str,
        subject: str,
        html: str,
        text: str,
        unsubscribe_url: str,
        unsubscribe_token: str,
    ) -> BuiltMessage:
        check_delivery_id(delivery_id)
        to_local, to_domain = _split_address(to_email)
        rcpt_to = f"{to_local}@{to_domain}"

        cached_subject, subject_line = self._subject_cache
        if subject != cached_subject:  # a mailing's subject is usually the same for all
            subject_line = _unstructured("Subject", subject)
            self._subject_cache = (subject, subject_line)

        message_id = message_id_with_key(delivery_id, self._mid_key, self._mid_domain)
        if self._verp_domain:
            mail_from = verp_with_key(delivery_id, self._verp_key, self._verp_domain)
        else:
            mail_from = self._envelope_sender

        head = "".join(
            (
                self._from_line,
                _mailbox("To", to_name, rcpt_to) if to_name else f"To: {rcpt_to}\r\n",
                subject_line,
                "Date: ",
                rfc5322_date(),
                "\r\nMessage-ID: ",
                message_id,
                "\r\n",
                self._middle_lines,
                self._list_unsubscribe(unsubscribe_url, unsubscribe_token),
                self._tail_lines,
            )
        )
        text_cte, text_body = _encode_body(text, _BOUNDARY_PREFIX)
        html_cte, html_body = _encode_body(html, _BOUNDARY_PREFIX)
        data = b"".join(
            (
                head.encode("utf-8"),
                self._text_heads[text_cte],
                text_body,
                self._html_heads[html_cte],
                html_body,
                self._closing,
            )
        )
        if self._signer is not None:
            data = self._signer.sign(data)
        return BuiltMessage(
            mail_from=mail_from,
            rcpt_to=rcpt_to,
            message_id=message_id,
            data=data,
            needs_smtputf8=self._smtputf8 or not to_local.isascii(),
        )

    def _list_unsubscribe(self, url: str, token: str) -> str:
        # RFC 2369 + RFC 8058: the HTTPS URI takes the one-click POST; mailto is the fallback.
        if not _URL.fullmatch(url) or len(url) > _LONGEST_WORD:
            raise ValueError(f"invalid unsubscribe URL: {url!r}")
        if not self._mailto:
            return f"List-Unsubscribe: <{url}>\r\n"
        if not _TOKEN_SAFE.fullmatch(token):
            token = quote(token, safe="")
        return f"List-Unsubscribe: <{url}>,\r\n <mailto:{self._mailto}?subject={token}>\r\n"


def _parse_mailbox(value: str) -> tuple[str, str]:
    """("Name", "addr") from "Name <addr>" or a bare "addr" (the envelope's Reply-To)."""
    value = value.strip()
    if value.endswith(">") and "<" in value:
        name, _, address = value[:-1].rpartition("<")
        name = name.strip()
        if len(name) >= 2 and name[0] == name[-1] == '"':
            name = name[1:-1].replace('\\"', '"').replace("\\\\", "\\")
        return name, address
    return "", value


if __name__ == "__main__":  # pragma: no cover - a quick throughput check, not a test
    import sys
    from email.message import EmailMessage
    from email.policy import SMTP

    if not settings.configured:
        settings.configure(SECRET_KEY=secrets.token_urlsafe(32))
    from engagex.delivery.dkim import DkimSigner, generate_key_pair

    row = (
        '<tr><td style="padding:12px 24px;font-family:Helvetica,Arial,sans-serif;'
        'font-size:16px;line-height:24px;color:#333333">Our autumn collection is here: '
        "jackets, scarves and {name}'s favourite boots, now 20% off. "
        '<a href="https://example.com/t/c/AbCdEf{n}" style="color:#0066cc;'
        'text-decoration:underline">Shop the collection</a></td></tr>\n'
    )
    # Shaped like email_ready_html output: the preheader padding is one >998-octet line.
    preheader = '<div style="display:none">Autumn offers' + "&#847;&zwnj;&nbsp;" * 90 + "</div>"
    rows = "".join(row.format(name="Anna", n=n) for n in range(140))
    ascii_html = f"<html><body>{preheader}\n<table>\n{rows}"[:39_980] + "</table></body></html>\n"
    utf8_html = ascii_html.replace("favourite", "favorite — 🎉 Grüße", 40)
    plain = "Our autumn collection is here.\nShop: https://example.com/t/c/AbCdEf\n" * 40
    envelope = MailingEnvelope(
        organization_id="org",
        mailing_id="m1",
        from_name="Acme Store",
        from_email="news@acme.example",
        bounce_domain="bounces.acme.example",
        feedback_id="m1:org:campaign:engagex",
        unsubscribe_mailto="unsubscribe@bounces.acme.example",
    )
    private_pem, _ = generate_key_pair()
    signer = DkimSigner(domain="acme.example", selector="ex1", private_key_pem=private_pem)

    def rate(builder: MessageBuilder, html: str, seconds: float = 2.0) -> float:
        count, started = 0, time.perf_counter()
        while time.perf_counter() - started < seconds:
            builder.build(
                delivery_id=1000 + count,
                to_email=f"user{count}@example.com",
                to_name="Anna Example",
                subject="Autumn collection",
                html=html,
                text=plain,
                unsubscribe_url=f"https://acme.example/u/{count}",
                unsubscribe_token=f"tok{count}",
            )
            count += 1
        return count / (time.perf_counter() - started)

    def stdlib_rate(html: str, seconds: float = 2.0) -> float:
        count, started = 0, time.perf_counter()
        while time.perf_counter() - started < seconds:
            message = EmailMessage()
            message["From"] = "Acme Store <news@acme.example>"
            message["To"] = f"Anna Example <user{count}@example.com>"
            message["Subject"] = "Autumn collection"
            message["Message-ID"] = message_id_for(1000 + count, "bounces.acme.example")
            message["List-Unsubscribe"] = f"<https://acme.example/u/{count}>"
            message["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
            message.set_content(plain)
            message.add_alternative(html, subtype="html")
            message.as_bytes(policy=SMTP)
            count += 1
        return count / (time.perf_counter() - started)

    def sign_rate(message: bytes, seconds: float = 2.0) -> float:
        count, started = 0, time.perf_counter()
        while time.perf_counter() - started < seconds:
            signer.sign(message)
            count += 1
        return count / (time.perf_counter() - started)

    plain_builder = MessageBuilder(envelope)
    signing_builder = MessageBuilder(envelope, signer=signer)
    for label, html in (("ascii html", ascii_html), ("utf-8 html", utf8_html)):
        size = len(html.encode())
        print(f"{label} ({size} bytes):", file=sys.stderr)
        print(f"  stdlib email      {stdlib_rate(html):8.0f} msg/s", file=sys.stderr)
        print(f"  builder           {rate(plain_builder, html):8.0f} msg/s", file=sys.stderr)
        print(f"  builder + DKIM    {rate(signing_builder, html):8.0f} msg/s", file=sys.stderr)
        sample = plain_builder.build(
            delivery_id=1,
            to_email="a@example.com",
            to_name="",
            subject="Autumn collection",
            html=html,
            text=plain,
            unsubscribe_url="https://acme.example/u/1",
            unsubscribe_token=secrets.token_urlsafe(8),
        ).data
        print(f"  DKIM sign only    {sign_rate(sample):8.0f} msg/s", file=sys.stderr)
