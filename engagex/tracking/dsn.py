"""Bounces: per-recipient results of a delivery status notification (RFC 3464) or of a
plain-text bounce, and their severity.

Text in, dataclasses out: finding the parts of a MIME message is `inbound_parse`'s job.
`parse_field_blocks` is shared with `arf`, whose reports use the same field syntax.

Severity, i.e. what the intake does with the contact:

- "hard": the address does not exist (5.1.x, 5.4.x, 5.0.0) → bounced and suppressed.
- "soft": a condition that may go away (4.x.x, mailbox full 5.2.x, delays) → counted;
  three in 30 days suppress.
- "policy": the receiver refused *us* (5.7.x: spam filters, block lists, DMARC) → the
  contact is not punished, the organization is alerted.
- "none": not a failure (Action delivered, relayed or expanded).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

HARD = "hard"
SOFT = "soft"
POLICY = "policy"
NONE = "none"

ACTIONS = ("failed", "delayed", "delivered", "relayed", "expanded")
DIAGNOSTIC_MAX_CHARS = 500

# Fields of one block: lower-case name -> values in order (a field may repeat).
Fields = dict[str, list[str]]


@dataclass(frozen=True)
class RecipientStatus:
    """What happened to one recipient of the original message."""

    recipient: str  # the address ("rfc822;" removed); "" when the bounce does not name it
    action: str  # failed | delayed | delivered | relayed | expanded ("" if unknown)
    status: str  # enhanced status code such as "5.1.1"; "" when none was given anywhere
    diagnostic: str  # the remote server's words, unfolded, at most ~500 characters
    remote_mta: str  # host name of the server that answered, "" if not reported
    severity: str  # hard | soft | policy | none


# --- field blocks (RFC 3464 §2.1, RFC 5965 §3.5: header syntax, blank line between) ----

_LINE_BREAK = re.compile(r"\r\n|\r|\n")
_FIELD_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,75}")


def parse_field_blocks(text: str) -> list[Fields]:
    """Blocks of `Name: value` fields separated by blank lines; folded lines are joined.
    Lines that are not fields (a truncated or hand-written report) are skipped."""
    blocks: list[Fields] = []
    block: Fields = {}
    name = ""
    for line in _LINE_BREAK.split(text):
        if not line.strip():
            if block:
                blocks.append(block)
            block, name = {}, ""
        elif line[0] in " \t":
            if name:
                block[name][-1] += " " + line.strip()
        else:
            key, colon, value = line.partition(":")
            key = key.strip()
            if colon and _FIELD_NAME.fullmatch(key):
                name = key.lower()
                block.setdefault(name, []).append(value.strip())
            else:
                name = ""
    if block:
        blocks.append(block)
    return blocks


def field(fields: Fields, name: str) -> str:
    values = fields.get(name)
    return values[0].strip() if values else ""


def typed_address(value: str, *, xtext: bool = False) -> str:
    """`rfc822; a@b` → `a@b`: the address type is dropped and utf-8 escapes decoded;
    with `xtext`, "+2B" becomes "+" (Original-Recipient carries the ORCPT parameter,
    which is xtext, RFC 3461 §4.2; upper-case hex only, so "jane+ab@" stays as it is)."""
    kind, semicolon, address = value.partition(";")
    if not semicolon:
        address, kind = kind, ""
    address = address.strip().strip("<>").strip()
    if " " in address:  # "x@y (comment)", "<x@y> Name"
        found = _ANY_ADDRESS.search(address)
        address = found.group(0) if found else address.split()[0]
    kind = kind.strip().lower()
    if kind == "rfc822" and xtext:
        address = re.sub(r"\+([0-9A-F]{2})", lambda m: chr(int(m.group(1), 16)), address)
    elif kind == "utf-8":  # RFC 6533 embedded code points: "\x{E9}"
        address = re.sub(r"\\x\{([0-9A-Fa-f]{1,6})\}", _code_point, address)
    return address


def _code_point(match: re.Match[str]) -> str:
    value = int(match.group(1), 16)
    return chr(value) if value <= 0x10FFFF else ""


# --- status codes ----------------------------------------------------------------------

# Enhanced status code (RFC 3463). Not after a digit or dot, so IP addresses such as
# 192.0.2.55 don't yield a "2.0.2"; the detail may have up to three digits (5.1.10).
_ENHANCED = re.compile(r"(?<![\d.])([245])\.(\d{1,3})\.(\d{1,3})(?!\d|\.\d)")
# SMTP reply code at the start of a reply or after "said:", as in "550-5.1.1 ...".
_REPLY = re.compile(r"(?<![\w.:/\-#])([245][0-5]\d)(?=[ -]|$)")
# "smtp; 550 ..." / "X-Postfix; ...": the diagnostic type, not part of the message.
_DIAGNOSTIC_TYPE = re.compile(r"^\s*[A-Za-z][\w-]{0,30}\s*;\s*")


def enhanced_codes(text: str) -> list[str]:
    return [".".join(match.groups()) for match in _ENHANCED.finditer(text)]


def _is_generic(code: str) -> bool:
    # "Other or undefined" codes say only success/temporary/permanent; 5.5.0 is what some
    # servers answer for anything from "no such user" to "blocked".
    return code.endswith(".0.0") or code.endswith(".5.0")


def effective_status(status_field: str, diagnostic: str) -> str:
    """The most specific enhanced code: the Status field unless it is generic, then the
    first specific one in the diagnostic, then whatever generic code there is."""
    reported = enhanced_codes(status_field)
    if reported and not _is_generic(reported[0]):
        return reported[0]
    in_diagnostic = enhanced_codes(diagnostic)
    for code in in_diagnostic:
        if not _is_generic(code):
            return code
    return (reported or in_diagnostic or [""])[0]


def reply_code(diagnostic: str) -> str:
    match = _REPLY.search(diagnostic)
    return match.group(1) if match else ""


def severity_of_code(code: str) -> str:
    """Severity of an enhanced status code."""
    klass, subject, _detail = code.split(".")
    if klass == "2":
        return NONE
    if klass == "4":
        return SOFT
    if code in ("5.1.7", "5.1.8"):
        # Bad *sender* address or domain: our configuration, not the contact's address.
        return POLICY
    if code == "5.4.7":
        # Delivery time expired: the sum of temporary failures, not a missing address.
        return SOFT
    return {
        "0": HARD,  # 5.0.0: permanent, reason unspecified
        "1": HARD,  # addressing: no such user / domain
        "2": SOFT,  # mailbox: full (5.2.2), disabled (5.2.1), message too big (5.2.3)
        "3": SOFT,  # the receiving system: out of space, not accepting mail
        "4": HARD,  # routing: no such host, unroutable (Office 365's 5.4.1)
        "5": SOFT,  # protocol errors: not the address's fault
        "6": POLICY,  # the content (media, conversion): the organization's message
        "7": POLICY,  # security and policy: spam filters, block lists, authentication
    }.get(subject, SOFT)


def _severity_of_reply(code: str) -> str:
    if code.startswith("2"):
        return NONE
    if code.startswith("4") or code == "552":  # 552: exceeded storage allocation
        return SOFT
    if code == "554":  # "transaction failed": mostly content and reputation filters
        return POLICY
    return HARD


# Last resort when no specific status code exists. Checked in this order, so "mailbox
# unavailable: blocked as spam" counts as policy and not as a missing address.
_POLICY_PHRASES = re.compile(
    r"spam|block ?list|blocked|black ?list|deny ?list|spamhaus|\bdnsbl\b|\brbl\b|"
    r"reputation|\bpolicy\b|policies|\bdmarc\b|\bspf\b|\bdkim\b|relay(?:ing)? (?:access )?"
    r"denied|not permitted to relay|content rejected|virus|malware|banned",
    re.IGNORECASE,
)
_SOFT_PHRASES = re.compile(
    r"quota|mailbox (?:is )?full|inbox is full|mailbox has exceeded|storage|disk full|"
    r"too many (?:messages|connections)|(?:mailbox|account) (?:is |has been )?disabled|"
    r"inactive|temporar|try again later|rate limit|receiving mail at a rate|"
    r"timed? ?out|connection refused|deferred|grey ?listed|greylisting|"
    r"retry timeout exceeded|expired",
    re.IGNORECASE,
)
_HARD_PHRASES = re.compile(
    r"user unknown|unknown user|no such (?:user|recipient|mailbox|address|domain)|"
    r"no mailbox|mailbox (?:unavailable|not found|does not exist)|does ?n[o']t exist|"
    r"recipient ?not ?found|user not found|unknown (?:recipient|address)|"
    r"(?:recipient|address) unknown|invalid (?:recipient|mailbox|address)|"
    r"not a valid (?:recipient|mailbox|address)|unrout(?:e)?able|host not found|"
    r"domain not found|account (?:has been deleted|does not exist)|no longer (?:active|valid)",
    re.IGNORECASE,
)


def severity_of_phrases(text: str) -> str:
    for pattern, severity in (
        (_POLICY_PHRASES, POLICY),
        (_SOFT_PHRASES, SOFT),
        (_HARD_PHRASES, HARD),
    ):
        if pattern.search(text):
            return severity
    return ""


def normalize_action(value: str, status: str, diagnostic: str) -> str:
    word = value.strip().lower()
    for action in ACTIONS:
        if word and action.startswith(word[:4]):  # also a truncated "fail" or "delay"
            return action
    klass = status[:1] or reply_code(diagnostic)[:1]
    return {"5": "failed", "4": "delayed", "2": "delivered"}.get(klass, "")


def classify(action: str, status: str, diagnostic: str, *, default: str) -> str:
    """The severity of one recipient's result. `status` is the effective enhanced code.
    `default` applies when nothing at all says why the delivery failed."""
    if action in ("delivered", "relayed", "expanded"):
        return NONE
    if action == "delayed":
        return SOFT
    if status and not _is_generic(status):
        return severity_of_code(status)
    phrases = severity_of_phrases(diagnostic)
    if phrases:
        return phrases
    code = reply_code(diagnostic)
    if code:
        return _severity_of_reply(code)
    if status:
        return severity_of_code(status)
    return default


def clean_diagnostic(value: str) -> str:
    """Unfolded, without the "smtp;" type and the repeated "550-5.1.1" prefixes of a
    multi-line reply, at most DIAGNOSTIC_MAX_CHARS characters."""
    text = " ".join(_DIAGNOSTIC_TYPE.sub("", value, count=1).split())
    prefix = re.match(r"([245]\d\d)[ -](?:([245]\.\d{1,3}\.\d{1,3}) )?", text)
    if prefix:
        code, enhanced = prefix.groups()
        repeated = re.escape(code) + r"[ -]" + (re.escape(enhanced) + " +" if enhanced else "")
        text = text[: prefix.end()] + re.sub(r"(?<= )" + repeated, "", text[prefix.end() :])
        text = text.replace("-", " ", 1) if text[3:4] == "-" else text
    if len(text) > DIAGNOSTIC_MAX_CHARS:
        text = text[: DIAGNOSTIC_MAX_CHARS - 1].rstrip() + "…"
    return text


def _remote_mta(value: str) -> str:
    # "dns; gmail-smtp-in.l.google.com. (192.0.2.27, the server for ...)" → the host name
    host = value.partition(";")[2] if ";" in value else value
    words = host.split()
    return words[0].strip("[]").rstrip(".").lower() if words else ""


# --- RFC 3464 delivery-status ------------------------------------------------------------


def parse_delivery_status(text: str) -> tuple[Fields, list[RecipientStatus]]:
    """The per-message fields and the per-recipient results of a message/delivery-status
    body. Blocks without a recipient or any result field are per-message fields."""
    per_message: Fields = {}
    results = []
    for block in parse_field_blocks(text):
        recipient = (
            typed_address(field(block, "original-recipient"), xtext=True)
            or typed_address(field(block, "final-recipient"))
            or typed_address(field(block, "x-actual-recipient"))
        )
        has_result = any(name in block for name in ("action", "status", "diagnostic-code"))
        if not recipient and not has_result:
            for name, values in block.items():
                per_message.setdefault(name, []).extend(values)
            continue
        results.append(_recipient_status(recipient, block))
    return per_message, results


def _recipient_status(recipient: str, block: Fields) -> RecipientStatus:
    diagnostic = clean_diagnostic(field(block, "diagnostic-code"))
    status = effective_status(field(block, "status"), diagnostic)
    action = normalize_action(field(block, "action"), status, diagnostic)
    return RecipientStatus(
        recipient=recipient,
        action=action,
        status=status,
        diagnostic=diagnostic,
        remote_mta=_remote_mta(field(block, "remote-mta")),
        severity=classify(action, status, diagnostic, default=_default_severity(action)),
    )


def _default_severity(action: str) -> str:
    # Action "failed" without any reason is a permanent failure, like 5.0.0. Without even
    # an Action (a truncated report) nothing proves the address is bad: soft.
    return HARD if action == "failed" else SOFT


def with_explanation(result: RecipientStatus, explanation: str) -> RecipientStatus:
    """A DSN result that had neither Status nor Diagnostic-Code (a truncated report),
    completed from what the human-readable part says about that recipient."""
    if result.status or result.diagnostic or not explanation:
        return result
    diagnostic = clean_diagnostic(reply_text(explanation))
    status = effective_status("", diagnostic)
    action = result.action or normalize_action("", status, diagnostic) or "failed"
    return RecipientStatus(
        recipient=result.recipient,
        action=action,
        status=status,
        diagnostic=diagnostic,
        remote_mta=result.remote_mta,
        severity=classify(action, status, diagnostic, default=_default_severity(result.action)),
    )


# --- plain-text bounces (Exim, qmail, old Sendmail, small providers) ---------------------

_ADDRESS = r"[^\s<>()\[\]\"',;:@]+@[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?"
# A line that starts with an address: "  jane@example.org", "<bob@example.net>:",
# "<x@y>: host mx said: 550 ..." — how Exim, qmail, Postfix and Sendmail list failures.
_ADDRESS_LINE = re.compile(r"^\s*<?(" + _ADDRESS + r")>?\s*(?:[:\-.]\s*(.*))?$")
_ANY_ADDRESS = re.compile(_ADDRESS)
# Where the copy of the original message starts: nothing after it describes the failure.
_COPY_MARKER = re.compile(
    r"^[\s>-]*(?:original message|unsent message|received message|returned message|"
    r"undelivered message|this is a copy of the|below this line is a copy|"
    r"message headers follow|headers of the original|original message headers)",
    re.IGNORECASE,
)
_PERMANENT = re.compile(r"permanent (?:fatal )?error|given up|permanently|fatal error", re.I)
_DELAYED = re.compile(
    r"not yet been delivered|has been delayed|\bdelayed\b|will (?:continue|be retried|retry)|"
    r"still (?:being )?(?:trying|retried)|warning only|no action is required",
    re.IGNORECASE,
)
# "host mx.example.org [192.0.2.25]" (Exim), "host mx.example.com[192.0.2.55] said:" (Postfix)
_HOST = re.compile(r"\bhost ([A-Za-z0-9][A-Za-z0-9.-]*)\s*\[[^\]]*\]:?\s*(?:said:\s*)?", re.I)
# The server's reply inside a sentence: "... RCPT TO:<x@y>: 550 5.1.1 ...", "said: 550 ...".
_REPLY_IN_TEXT = re.compile(r"(?:^|:\s)([245]\d\d[ -].*)")
_MAX_DETAIL_LINES = 8


def _is_role_address(address: str) -> bool:
    local = address.rpartition("@")[0].lower()
    return local.startswith("bounce+") or local in ("mailer-daemon", "postmaster")


def failure_explanations(text: str) -> dict[str, str]:
    """address (lower case) → the lines that explain its failure, from the human-readable
    text of a bounce, up to the copy of the original message."""
    explanations: dict[str, list[str]] = {}
    current: list[str] | None = None
    for line in _LINE_BREAK.split(text):
        if _COPY_MARKER.match(line):
            break
        match = _ADDRESS_LINE.match(line)
        if match and not _is_role_address(match.group(1)):
            current = explanations.setdefault(match.group(1).lower(), [])
            if match.group(2):
                current.append(match.group(2))
        elif current is not None and line.strip() and len(current) < _MAX_DETAIL_LINES:
            current.append(line.strip())
        elif not line.strip():
            current = None
    return {address: " ".join(lines) for address, lines in explanations.items()}


def parse_plain_bounce(
    text: str, failed_recipients: list[str], fallback_recipients: list[str]
) -> list[RecipientStatus]:
    """Results of a bounce without a delivery-status part. Recipients come from the
    X-Failed-Recipients header, else from the text, else from the original message's To;
    when none is found at all, one result with recipient "" still carries the reason."""
    body = _COPY_MARKER.split(text, maxsplit=1)[0] if text else ""
    explanations = failure_explanations(text)
    addresses = failed_recipients or list(explanations) or fallback_recipients or [""]
    permanent = bool(_PERMANENT.search(body))
    delayed = not permanent and bool(_DELAYED.search(body))
    # With no code and no known words, only an explicit "permanent error" makes it hard.
    default = HARD if permanent else SOFT
    results = []
    seen = set()
    for address in addresses:
        if address.lower() in seen:
            continue
        seen.add(address.lower())
        explanation = explanations.get(address.lower()) or first_reply_line(body)
        results.append(_plain_status(address, explanation, delayed, default))
    return results


def first_reply_line(text: str) -> str:
    """The first line with an SMTP reply or status code, or a known failure phrase."""
    lines = [line.strip() for line in _LINE_BREAK.split(text) if line.strip()]
    for pattern in (_ENHANCED, _REPLY):
        for line in lines:
            if pattern.search(line):
                return line
    for line in lines:
        if severity_of_phrases(line):
            return line
    return ""


def _plain_status(address: str, explanation: str, delayed: bool, default: str) -> RecipientStatus:
    host = _HOST.search(explanation)
    diagnostic = clean_diagnostic(reply_text(explanation))
    status = effective_status("", diagnostic)
    action = "delayed" if delayed else "failed"
    return RecipientStatus(
        recipient=address,
        action=action,
        status=status,
        diagnostic=diagnostic,
        remote_mta=host.group(1).rstrip(".").lower() if host else "",
        severity=classify(action, status, diagnostic, default=default),
    )


def reply_text(explanation: str) -> str:
    """The remote server's reply without the MTA's preamble ("host ... said:", "SMTP
    error from remote mail server after RCPT TO:<...>:"), or the whole explanation."""
    text = " ".join(explanation.split())
    match = _REPLY_IN_TEXT.search(_HOST.sub("", text, count=1))
    return match.group(1) if match else text


def addresses_in(value: str) -> list[str]:
    return _ANY_ADDRESS.findall(value)
