"""A minimal, fast SMTP sink for the sending benchmark (its own process).

    .venv/bin/python -m bench.smtp_sink [--host 127.0.0.1] [--port 0]

Speaks just enough ESMTP for a client library (EHLO/HELO, MAIL, RCPT, DATA, RSET,
NOOP, QUIT; it advertises what a typical relay does: PIPELINING, SIZE, 8BITMIME,
SMTPUTF8), accepts every message and keeps nothing of it but counts: messages,
distinct Message-IDs (so a duplicate would show) and the monotonic time of the first
and the last one (CLOCK_MONOTONIC is system-wide on Linux, so those compare with other
processes' `time.monotonic()`). Bodies are neither stored nor parsed beyond finding the
Message-ID header.

Two extra verbs are the benchmark's control channel, on any connection:
`XSTAT` → `250 <messages> <distinct message-ids> <first> <last>` and `XRESET` (zeroes
the counters). On start it prints `listening <host> <port>` on stdout; it stops on
SIGTERM/SIGINT.
"""

from __future__ import annotations

import argparse
import asyncio
import signal
import sys
import time

_EHLO = (
    b"250-sink.localhost\r\n250-PIPELINING\r\n250-SIZE 52428800\r\n250-8BITMIME\r\n"
    b"250-SMTPUTF8\r\n250 ENHANCEDSTATUSCODES\r\n"
)
_OK = b"250 2.0.0 Ok\r\n"
_END_OF_DATA = b"\r\n.\r\n"
_MESSAGE_ID = b"\r\nmessage-id:"
_MAX_LINE = 4096


class Stats:
    __slots__ = ("first", "ids", "last", "messages")

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        self.messages = 0
        self.ids: set[bytes] = set()
        self.first = 0.0
        self.last = 0.0

    def received(self, head: bytes) -> None:
        """One message accepted; `head` is its header block (CRLF-prefixed)."""
        now = time.monotonic()
        if not self.messages:
            self.first = now
        self.last = now
        self.messages += 1
        at = head.lower().find(_MESSAGE_ID)
        if at >= 0:
            start = at + len(_MESSAGE_ID)
            end = head.find(b"\r\n", start)
            self.ids.add(head[start : end if end >= 0 else None].strip())

    def line(self) -> bytes:
        return f"250 {self.messages} {len(self.ids)} {self.first:.6f} {self.last:.6f}\r\n".encode()


class SinkProtocol(asyncio.Protocol):
    def __init__(self, stats: Stats) -> None:
        self.stats = stats
        self.buffer = bytearray()
        self.in_data = False
        self.scanned = 0  # how far the DATA buffer was searched for the terminator
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport) -> None:
        self.transport = transport
        transport.write(b"220 sink.localhost ESMTP bench sink\r\n")

    def data_received(self, data: bytes) -> None:
        buffer = self.buffer
        buffer += data
        replies = []
        while buffer:
            if self.in_data:
                # The terminator may follow the 354 at once (an empty message).
                if buffer[:3] == b".\r\n":
                    end, skip = 0, 3
                else:
                    end = buffer.find(_END_OF_DATA, max(self.scanned - 4, 0))
                    if end < 0:
                        self.scanned = len(buffer)
                        break
                    end, skip = end + 2, end + 5
                head_end = buffer.find(b"\r\n\r\n", 0, end)
                self.stats.received(b"\r\n" + bytes(buffer[: head_end if head_end >= 0 else end]))
                del buffer[:skip]
                self.in_data = False
                self.scanned = 0
                replies.append(b"250 2.0.0 Ok: queued\r\n")
                continue
            line_end = buffer.find(b"\r\n")
            if line_end < 0:
                if len(buffer) > _MAX_LINE:
                    replies.append(b"500 5.5.2 Line too long\r\n")
                    buffer.clear()
                break
            line = bytes(buffer[:line_end])
            del buffer[: line_end + 2]
            replies.append(self.command(line))
            if replies[-1] is None:  # QUIT
                replies[-1] = b"221 2.0.0 Bye\r\n"
                self.transport.write(b"".join(replies))
                self.transport.close()
                return
        if replies:
            self.transport.write(b"".join(replies))

    def command(self, line: bytes) -> bytes | None:
        verb = line[:4].upper()
        if verb in (b"MAIL", b"RCPT", b"RSET", b"NOOP"):
            return _OK
        if verb == b"DATA":
            self.in_data = True
            self.scanned = 0
            return b"354 End data with <CR><LF>.<CR><LF>\r\n"
        if verb == b"EHLO":
            return _EHLO
        if verb == b"HELO":
            return b"250 sink.localhost\r\n"
        if verb == b"QUIT":
            return None
        if line.upper() == b"XSTAT":
            return self.stats.line()
        if line.upper() == b"XRESET":
            self.stats.reset()
            return _OK
        return b"502 5.5.2 Command not recognized\r\n"


async def serve(host: str, port: int) -> None:
    stats = Stats()
    loop = asyncio.get_running_loop()
    server = await loop.create_server(lambda: SinkProtocol(stats), host, port, backlog=128)
    stop = asyncio.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    bound = server.sockets[0].getsockname()
    print(f"listening {bound[0]} {bound[1]}", flush=True)
    async with server:
        await stop.wait()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args()
    asyncio.run(serve(args.host, args.port))
    sys.exit(0)


if __name__ == "__main__":
    main()
