"""The mailbox poller: for installations whose bounces arrive in a POP3 or IMAP mailbox
instead of at our own inbound SMTP server.

INBOUND_MAILBOX_URL says where (credentials come from the environment only):

    pop3s://user:password@pop.example.com:995
    imaps://user:password@imap.example.com:993/INBOX      (folder: INBOX by default)

Certificates are verified (system trust store, or INBOUND_MAILBOX_CA_FILE). Plain
`pop3://` and `imap://` are refused unless INBOUND_MAILBOX_ALLOW_PLAIN is on (tests,
a server on the same machine): the password would cross the network in clear.

`mailbox_poll()` (every minute as a job, or `manage.py inbound_poll`) fetches up to
`limit` messages, hands each to `inbound_process`, and removes it from the mailbox only
once it is stored: POP3 DELE (applied by the server at QUIT), IMAP \\Seen \\Deleted then
EXPUNGE. If storing fails, the messages already stored are still removed and the rest
stay for the next poll. The mailbox should be dedicated to EngageX: everything in it is
processed and deleted.
"""

from __future__ import annotations

import contextlib
import imaplib
import logging
import poplib
import re
import ssl
from dataclasses import dataclass
from urllib.parse import unquote, urlsplit

from django.conf import settings

from engagex.tracking.inbound import inbound_process
from engagex.tracking.models import InboundMessage

log = logging.getLogger(__name__)

TIMEOUT_SECONDS = 30
POLL_LIMIT = 200  # messages per poll: a huge backlog drains over several minutes
DEFAULT_PORTS = {"pop3s": 995, "imaps": 993, "pop3": 110, "imap": 143}
# poplib refuses lines over 2,048 bytes, and one such message would then block the
# mailbox for good; mail has longer lines (RFC 5322's 998 is often ignored). A message
# is bounded anyway: LIST gives its size before we fetch it.
poplib._MAXLINE = max(poplib._MAXLINE, 1024 * 1024)
_IMAP_SIZE = re.compile(rb"(\d+) \(.*?RFC822\.SIZE (\d+)", re.IGNORECASE)


class MailboxError(Exception):
    """The mailbox can't be polled (bad URL, unreachable, refused sign-in, TLS failure).
    The message never contains the password."""


@dataclass(frozen=True)
class MailboxConfig:
    scheme: str  # pop3s | imaps | pop3 | imap
    host: str
    port: int
    username: str
    password: str
    folder: str = "INBOX"

    @property
    def protocol(self) -> str:
        return self.scheme.rstrip("s")

    @property
    def tls(self) -> bool:
        return self.scheme.endswith("s")

    def __str__(self) -> str:  # for messages and logs: no password
        folder = f"/{self.folder}" if self.protocol == "imap" else ""
        return f"{self.scheme}://{self.username}@{self.host}:{self.port}{folder}"


@dataclass(frozen=True)
class PollResult:
    mailbox: str
    fetched: int = 0  # messages stored (then deleted from the mailbox)
    too_large: int = 0  # over INBOUND_MAX_MESSAGE_BYTES: recorded, deleted unread
    remaining: int = 0  # left for the next poll (over the limit of one poll)


def mailbox_config(url: str) -> MailboxConfig:
    """Read INBOUND_MAILBOX_URL; ValueError naming the problem (never the password)."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        raise ValueError("INBOUND_MAILBOX_URL is not a valid URL") from None
    scheme = parts.scheme.lower()
    if scheme not in DEFAULT_PORTS:
        raise ValueError(
            "INBOUND_MAILBOX_URL must start with pop3s://, imaps://, pop3:// or imap://"
        )
    if not parts.hostname:
        raise ValueError("INBOUND_MAILBOX_URL has no host name")
    if not parts.username or parts.password is None:
        raise ValueError("INBOUND_MAILBOX_URL needs a user name and password (user:password@host)")
    folder = unquote(parts.path.strip("/"))
    if folder and not scheme.startswith("imap"):
        raise ValueError("INBOUND_MAILBOX_URL: only IMAP has folders")
    return MailboxConfig(
        scheme=scheme,
        host=parts.hostname,
        port=port or DEFAULT_PORTS[scheme],
        username=unquote(parts.username),
        password=unquote(parts.password),
        folder=folder or "INBOX",
    )


def mailbox_poll(url: str | None = None, *, limit: int = POLL_LIMIT) -> PollResult | None:
    """Fetch, store and delete new messages; None when no mailbox is configured."""
    url = settings.INBOUND_MAILBOX_URL if url is None else url
    if not url:
        return None
    try:
        config = mailbox_config(url)
    except ValueError as error:
        raise MailboxError(str(error)) from None
    if not config.tls and not settings.INBOUND_MAILBOX_ALLOW_PLAIN:
        raise MailboxError(
            f"{config.scheme}:// sends the password unencrypted; use "
            f"{config.scheme}s:// (or set INBOUND_MAILBOX_ALLOW_PLAIN=1 for a local server)"
        )
    poll = _poll_pop3 if config.protocol == "pop3" else _poll_imap
    try:
        result = poll(config, limit)
    except ssl.SSLError as error:
        raise MailboxError(f"{config}: TLS failed: {error.reason or error}") from None
    except (OSError, EOFError) as error:
        raise MailboxError(f"{config}: connection failed: {error}") from None
    log.info(
        "mailbox polled",
        extra={"mailbox": str(config), "fetched": result.fetched, "remaining": result.remaining},
    )
    return result


def _tls_context() -> ssl.SSLContext:
    # Verifies the certificate chain and the host name.
    return ssl.create_default_context(cafile=settings.INBOUND_MAILBOX_CA_FILE or None)


def _too_large(config: MailboxConfig, size: int) -> None:
    """A message over the size limit isn't downloaded; a row says it was there."""
    InboundMessage.objects.create(
        source=config.protocol,
        kind="unknown",
        outcome=InboundMessage.Outcome.UNKNOWN,
        note=(
            f"{size} bytes: over the {settings.INBOUND_MAX_MESSAGE_BYTES}-byte limit, "
            "deleted from the mailbox without reading it"
        ),
        raw=b"",
        size=size,
    )


# --- POP3 (RFC 1939) -----------------------------------------------------------------------


def _poll_pop3(config: MailboxConfig, limit: int) -> PollResult:
    if config.tls:
        client = poplib.POP3_SSL(
            config.host, config.port, context=_tls_context(), timeout=TIMEOUT_SECONDS
        )
    else:
        client = poplib.POP3(config.host, config.port, timeout=TIMEOUT_SECONDS)
    try:
        try:
            client.user(config.username)
            client.pass_(config.password)
        except poplib.error_proto as error:
            raise MailboxError(f"{config}: sign-in refused: {_reply(error)}") from None
        sizes = {}
        for line in client.list()[1]:
            number, _, size = line.partition(b" ")
            sizes[int(number)] = int(size.split()[0]) if size.strip() else 0
        numbers = sorted(sizes)[:limit]
        fetched = too_large = 0
        try:
            for number in numbers:
                if sizes[number] > settings.INBOUND_MAX_MESSAGE_BYTES:
                    _too_large(config, sizes[number])
                    too_large += 1
                else:
                    lines = client.retr(number)[1]
                    inbound_process(b"\r\n".join(lines) + b"\r\n", source="pop3")
                    fetched += 1
                client.dele(number)
        except BaseException:
            # QUIT applies the deletions of what was stored, even when a later one failed.
            _quietly(client.quit)
            raise
        client.quit()
        return PollResult(str(config), fetched, too_large, len(sizes) - len(numbers))
    except poplib.error_proto as error:
        raise MailboxError(f"{config}: the server said: {_reply(error)}") from None
    finally:
        client.close()


# --- IMAP (RFC 9051 / 3501) --------------------------------------------------------------


def _poll_imap(config: MailboxConfig, limit: int) -> PollResult:
    if config.tls:
        client = imaplib.IMAP4_SSL(
            config.host, config.port, ssl_context=_tls_context(), timeout=TIMEOUT_SECONDS
        )
    else:
        client = imaplib.IMAP4(config.host, config.port, timeout=TIMEOUT_SECONDS)
    try:
        try:
            client.login(config.username, config.password)
        except imaplib.IMAP4.error as error:
            raise MailboxError(f"{config}: sign-in refused: {_reply(error)}") from None
        status, _ = client.select(_imap_quote(config.folder))
        if status != "OK":
            raise MailboxError(f"{config}: no such folder")
        # Not yet flagged \Deleted: a poll whose EXPUNGE failed doesn't process twice.
        status, data = client.search(None, "UNDELETED")
        found = data[0].split() if status == "OK" and data and data[0] else []
        numbers = found[:limit]
        fetched = too_large = 0
        try:
            sizes = _imap_sizes(client, numbers)
            for number in numbers:
                size = sizes.get(number, 0)
                if size > settings.INBOUND_MAX_MESSAGE_BYTES:
                    _too_large(config, size)
                    too_large += 1
                else:
                    # PEEK: fetching doesn't mark it \Seen; only a stored message is flagged.
                    inbound_process(_imap_body(client, number), source="imap")
                    fetched += 1
                client.store(number, "+FLAGS", r"(\Seen \Deleted)")
        except BaseException:
            _quietly(client.expunge)  # remove what was stored, even when a later one failed
            raise
        if fetched or too_large:
            client.expunge()
        client.logout()
        return PollResult(str(config), fetched, too_large, len(found) - len(numbers))
    except imaplib.IMAP4.error as error:
        raise MailboxError(f"{config}: the server said: {_reply(error)}") from None
    finally:
        _imap_close(client)


def _imap_sizes(client: imaplib.IMAP4, numbers: list[bytes]) -> dict[bytes, int]:
    if not numbers:
        return {}
    status, data = client.fetch(b",".join(numbers).decode(), "(RFC822.SIZE)")
    sizes = {}
    for item in data if status == "OK" else []:
        line = item[0] if isinstance(item, tuple) else item
        match = _IMAP_SIZE.match(line or b"")
        if match:
            sizes[match.group(1)] = int(match.group(2))
    return sizes


def _imap_body(client: imaplib.IMAP4, number: bytes) -> bytes:
    status, data = client.fetch(number.decode(), "(BODY.PEEK[])")
    for item in data if status == "OK" else []:
        if isinstance(item, tuple) and len(item) == 2:
            return item[1]
    raise MailboxError(f"message {number.decode()} could not be fetched")


def _imap_quote(folder: str) -> str:
    if re.fullmatch(r"[A-Za-z0-9._/-]+", folder):
        return folder
    return '"' + folder.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _imap_close(client: imaplib.IMAP4) -> None:
    with contextlib.suppress(OSError, AttributeError):  # not connected, or already closed
        client.shutdown()


def _reply(error: Exception) -> str:
    text = error.args[0] if error.args else error
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    return str(text)[:200]


def _quietly(action) -> None:
    """Clean up after a failure without hiding it behind a second one."""
    with contextlib.suppress(OSError, EOFError, poplib.error_proto, imaplib.IMAP4.error):
        action()
