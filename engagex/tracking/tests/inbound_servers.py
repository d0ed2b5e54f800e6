"""Helpers of the inbound mail tests: our inbound SMTP server on a free port, and fake
POP3 and IMAP servers that speak the real protocols over a socket (plain or TLS), just
enough of them for the poller (POP3: USER PASS STAT LIST RETR DELE QUIT; IMAP:
CAPABILITY LOGIN SELECT SEARCH FETCH STORE EXPUNGE LOGOUT)."""

from __future__ import annotations

import contextlib
import re
import shlex
import smtplib
import socket
import ssl
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from engagex.delivery.tests.smtp_servers import TlsFiles, free_port
from engagex.tracking.tests.test_inbound_parse import BOUNCE_DOMAIN, load


def fixture(name: str, delivery_id: int, **replacements: str) -> bytes:
    """A corpus message (fixtures/inbound/) about `delivery_id`, placeholders filled, with
    CRLF line ends as SMTP carries them."""
    raw = load(name, delivery_id, **replacements)
    return raw.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")


@contextlib.contextmanager
def inbound_smtp(bounce_domain: str = BOUNCE_DOMAIN):
    """Our real inbound server (`manage.py inbound`'s) on a free local port."""
    from engagex.tracking.inbound_smtp import inbound_controller

    controller = inbound_controller("127.0.0.1", free_port(), bounce_domain=bounce_domain)
    controller.start()
    try:
        yield controller
    finally:
        controller.stop()


def deliver(controller, raw: bytes, *, to: str | list[str], mail_from: str = "") -> dict:
    """Send one message over SMTP; returns smtplib's refused recipients ({} = all taken)."""
    with smtplib.SMTP(controller.hostname, controller.port, timeout=30) as smtp:
        return smtp.sendmail(mail_from, [to] if isinstance(to, str) else to, raw)


# --- a tiny line-based TCP server ----------------------------------------------------------


@dataclass
class FakeMailbox:
    """What the fake servers serve: messages, one account, and a log of commands."""

    messages: list[bytes]
    user: str = "bounces@acme.example"
    password: str = "s3cret pa:ss"
    commands: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)


class _LineServer:
    def __init__(self, mailbox: FakeMailbox, session: Callable, tls: TlsFiles | None) -> None:
        self.mailbox = mailbox
        self._session = session
        self._context = tls.server_context() if tls else None
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = self._listener.getsockname()[1]
        self._threads: list[threading.Thread] = []
        self._stopping = threading.Event()
        self._accepting = threading.Thread(target=self._accept, daemon=True)
        self._accepting.start()

    def _accept(self) -> None:
        # A blocking accept() isn't woken by close() from another thread: poll instead.
        self._listener.settimeout(0.05)
        while not self._stopping.is_set():
            try:
                connection, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return  # closed
            connection.settimeout(None)  # accepted sockets inherit the listener's timeout
            thread = threading.Thread(target=self._serve, args=(connection,), daemon=True)
            self._threads.append(thread)
            thread.start()

    def _serve(self, connection: socket.socket) -> None:
        with contextlib.suppress(OSError, ssl.SSLError):
            connection.settimeout(30)
            if self._context is not None:
                connection = self._context.wrap_socket(connection, server_side=True)
            with connection, connection.makefile("rb") as reader:
                self._session(self.mailbox, reader, connection.sendall)

    def close(self) -> None:
        self._stopping.set()
        self._accepting.join(5)
        self._listener.close()
        for thread in self._threads:
            thread.join(5)


def _line(reader) -> str | None:
    raw = reader.readline(8192)
    return raw.decode("utf-8", "replace").rstrip("\r\n") if raw else None


# --- POP3 (RFC 1939) ----------------------------------------------------------------------


def _pop3_session(mailbox: FakeMailbox, reader, send) -> None:
    send(b"+OK fake POP3 server ready\r\n")
    user, authenticated, deleted = None, False, set()
    while (line := _line(reader)) is not None:
        command, _, argument = line.partition(" ")
        command = command.upper()
        mailbox.commands.append(command if command != "PASS" else "PASS ***")
        with mailbox.lock:
            live = {n: m for n, m in enumerate(mailbox.messages, 1) if n not in deleted}
            if command == "USER":
                user = argument
                send(b"+OK\r\n")
            elif command == "PASS":
                authenticated = user == mailbox.user and argument == mailbox.password
                send(b"+OK signed in\r\n" if authenticated else b"-ERR [AUTH] invalid login\r\n")
            elif command == "QUIT":
                # The UPDATE state: deletions happen only now (RFC 1939 §6).
                mailbox.messages[:] = [
                    m for n, m in enumerate(mailbox.messages, 1) if n not in deleted
                ]
                send(b"+OK bye\r\n")
                return
            elif not authenticated:
                send(b"-ERR sign in first\r\n")
            elif command == "STAT":
                send(b"+OK %d %d\r\n" % (len(live), sum(map(len, live.values()))))
            elif command == "LIST":
                lines = [b"%d %d" % (n, len(m)) for n, m in live.items()]
                send(
                    b"+OK %d messages\r\n" % len(live)
                    + b"".join(x + b"\r\n" for x in lines)
                    + b".\r\n"
                )
            elif command in ("RETR", "DELE") and argument.isdigit() and int(argument) in live:
                number = int(argument)
                if command == "DELE":
                    deleted.add(number)
                    send(b"+OK deleted\r\n")
                else:
                    body = live[number].replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")
                    stuffed = re.sub(rb"(?m)^\.", b"..", body)  # dot-stuffing
                    if not stuffed.endswith(b"\r\n"):
                        stuffed += b"\r\n"
                    send(b"+OK %d octets\r\n" % len(body) + stuffed + b".\r\n")
            else:
                send(b"-ERR no such message or command\r\n")


@contextlib.contextmanager
def pop3_server(mailbox: FakeMailbox, tls: TlsFiles | None = None) -> Iterator[_LineServer]:
    server = _LineServer(mailbox, _pop3_session, tls)
    try:
        yield server
    finally:
        server.close()


# --- IMAP (RFC 3501) ----------------------------------------------------------------------


def _imap_set(spec: str, count: int) -> list[int]:
    numbers = []
    for part in spec.split(","):
        first, _, last = part.partition(":")
        low = int(first)
        high = (count if last == "*" else int(last)) if last else low
        numbers.extend(range(low, high + 1))
    return [n for n in numbers if 1 <= n <= count]


def _imap_session(mailbox: FakeMailbox, reader, send) -> None:
    send(b"* OK fake IMAP server ready\r\n")
    flags: list[set[str]] = [set() for _ in mailbox.messages]
    authenticated = selected = False
    while (line := _line(reader)) is not None:
        tag, _, rest = line.partition(" ")
        command, _, arguments = rest.partition(" ")
        command = command.upper()
        mailbox.commands.append(command)
        with mailbox.lock:
            if command == "CAPABILITY":
                send(b"* CAPABILITY IMAP4rev1 AUTH=PLAIN\r\n%s OK done\r\n" % tag.encode())
            elif command == "LOGIN":
                user, password = shlex.split(arguments)
                authenticated = user == mailbox.user and password == mailbox.password
                reply = b"OK signed in" if authenticated else b"NO [AUTHENTICATIONFAILED] invalid"
                send(tag.encode() + b" " + reply + b"\r\n")
            elif command == "LOGOUT":
                send(b"* BYE see you\r\n%s OK bye\r\n" % tag.encode())
                return
            elif not authenticated:
                send(b"%s BAD sign in first\r\n" % tag.encode())
            elif command == "SELECT":
                selected = shlex.split(arguments)[0] == "INBOX"
                if selected:
                    send(
                        b"* %d EXISTS\r\n* FLAGS (\\Seen \\Deleted)\r\n%s OK [READ-WRITE] done\r\n"
                        % (len(mailbox.messages), tag.encode())
                    )
                else:
                    send(b"%s NO no such mailbox\r\n" % tag.encode())
            elif not selected:
                send(b"%s BAD select a mailbox first\r\n" % tag.encode())
            elif command == "SEARCH" and arguments.upper() == "UNDELETED":
                found = [str(n) for n, f in enumerate(flags, 1) if "\\Deleted" not in f]
                send(b"* SEARCH %s\r\n%s OK done\r\n" % (" ".join(found).encode(), tag.encode()))
            elif command == "FETCH":
                spec, _, items = arguments.partition(" ")
                out = b""
                for number in _imap_set(spec, len(mailbox.messages)):
                    body = mailbox.messages[number - 1]
                    if items.upper() == "(RFC822.SIZE)":
                        out += b"* %d FETCH (RFC822.SIZE %d)\r\n" % (number, len(body))
                    elif items.upper() == "(BODY.PEEK[])":
                        out += b"* %d FETCH (BODY[] {%d}\r\n%s)\r\n" % (number, len(body), body)
                send(out + b"%s OK done\r\n" % tag.encode())
            elif command == "STORE":
                spec, _, change = arguments.partition(" ")
                added = re.findall(r"\\\w+", change)
                out = b""
                for number in _imap_set(spec, len(mailbox.messages)):
                    flags[number - 1].update(added)
                    listed = " ".join(sorted(flags[number - 1])).encode()
                    out += b"* %d FETCH (FLAGS (%s))\r\n" % (number, listed)
                send(out + b"%s OK done\r\n" % tag.encode())
            elif command == "EXPUNGE":
                out = b""
                for number in range(len(mailbox.messages), 0, -1):  # high to low: stable numbers
                    if "\\Deleted" in flags[number - 1]:
                        del mailbox.messages[number - 1]
                        del flags[number - 1]
                        out += b"* %d EXPUNGE\r\n" % number
                send(out + b"%s OK done\r\n" % tag.encode())
            else:
                send(b"%s BAD unknown command\r\n" % tag.encode())


@contextlib.contextmanager
def imap_server(mailbox: FakeMailbox, tls: TlsFiles | None = None) -> Iterator[_LineServer]:
    server = _LineServer(mailbox, _imap_session, tls)
    try:
        yield server
    finally:
        server.close()
