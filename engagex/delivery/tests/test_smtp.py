"""The SMTP pool against a real local SMTP server: outcomes per reply, drops, concurrency."""

import asyncio
import threading

import pytest
from aiosmtpd.controller import Controller

from engagex.delivery.outbox import PERMANENT, SENT, TEMPORARY
from engagex.delivery.smtp import Outgoing, SmtpPool, SmtpSettings, smtp_check
from engagex.delivery.tests.smtp_servers import FaultyHandler, free_port, smtp_server

DATA = (
    b"From: a@example.com\r\nTo: b@example.org\r\nSubject: hi\r\n"
    b"Message-ID: <m{n}@x>\r\n\r\nbody\r\n"
)


def run_async(make_coroutine):
    """asyncio.run on a thread of its own: independent of this thread's event loop state
    (other tests in the same process may have left one set)."""
    result: list = []

    def target():
        try:
            result.append(asyncio.run(make_coroutine()))
        except Exception as error:
            result.append(error)

    thread = threading.Thread(target=target)
    thread.start()
    thread.join()
    if isinstance(result[0], Exception):
        raise result[0]
    return result[0]


def message(n: int, rcpt: str) -> Outgoing:
    return Outgoing(n, "bounce@example.com", rcpt, DATA.replace(b"{n}", str(n).encode()))


def send(controller, messages, size=3):
    async def run():
        pool = SmtpPool(SmtpSettings(controller.hostname, controller.port), size=size)
        try:
            return await pool.send_batch(messages)
        finally:
            await pool.close()

    return run_async(run)


def test_each_reply_becomes_an_outcome_in_order():
    with smtp_server() as (controller, handler):
        outcomes = send(
            controller,
            [
                message(1, "ok@example.org"),
                message(2, "soft@example.org"),
                message(3, "hard@example.org"),
                message(4, "drop@example.org"),
            ],
        )
    assert [o.delivery_id for o in outcomes] == [1, 2, 3, 4]
    assert [o.result for o in outcomes] == [SENT, TEMPORARY, PERMANENT, SENT]
    assert outcomes[1].code == 450 and "Mailbox busy" in outcomes[1].reply
    assert outcomes[2].code == 550 and "No such user" in outcomes[2].reply
    # The dropped connection was reopened and the message went through on the retry.
    assert sorted(rcpt for _, rcpt, _ in handler.messages) == ["drop@example.org", "ok@example.org"]


def test_many_messages_over_a_few_persistent_connections():
    with smtp_server() as (controller, handler):
        outcomes = send(controller, [message(n, f"p{n}@example.org") for n in range(60)], size=4)
    assert all(o.result == SENT for o in outcomes)
    assert len(handler.messages) == 60
    assert len(set(handler.message_ids())) == 60


def test_unreachable_server_is_a_temporary_failure_and_check_says_why():
    from engagex.delivery.tests.smtp_servers import free_port

    settings = SmtpSettings("127.0.0.1", free_port(), timeout=2)

    async def run():
        pool = SmtpPool(settings, size=1)
        return await pool.send_batch([message(1, "x@example.org")])

    (outcome,) = run_async(run)
    assert outcome.result == TEMPORARY and outcome.reply.startswith("connection:")
    # The exact failure, for a "Test connection" button.
    with pytest.raises(Exception, match=r"(?i)127\.0\.0\.1|refused"):
        run_async(lambda: smtp_check(settings))


def test_a_non_ascii_address_goes_with_smtputf8_or_fails_alone():
    utf8 = Outgoing(2, "bounce@example.com", "jörg@example.org", DATA.replace(b"{n}", b"2"))
    batch = [message(1, "ok@example.org"), utf8, message(3, "ok@example.org")]
    with smtp_server() as (controller, handler):  # aiosmtpd's Controller offers SMTPUTF8
        outcomes = send(controller, batch)
    assert [o.result for o in outcomes] == [SENT, SENT, SENT]
    assert ("bounce@example.com", "jörg@example.org") in [m[:2] for m in handler.messages]

    handler = FaultyHandler()
    controller = Controller(handler, hostname="127.0.0.1", port=free_port(), enable_SMTPUTF8=False)
    controller.start()
    try:  # a server without it: that message fails for good, the others go
        outcomes = send(controller, batch)
    finally:
        controller.stop()
    assert [o.result for o in outcomes] == [SENT, PERMANENT, SENT]
    assert "SMTPUTF8" in outcomes[1].reply
    assert len(handler.messages) == 2


def test_leading_dots_and_bare_line_feeds_arrive_intact():
    data = b"From: a@example.com\r\nSubject: dots\r\n\r\n.starts with a dot\n..two\r\nend"
    with smtp_server() as (controller, handler):
        (outcome,) = send(controller, [Outgoing(1, "bounce@example.com", "ok@example.org", data)])
    assert outcome.result == SENT
    (_, _, received) = handler.messages[0]
    assert received == data.replace(b"\n", b"\r\n").replace(b"\r\r\n", b"\r\n") + b"\r\n"
