"""What a recipient's mail client sees in a built message, checked by parsing the bytes
with the stdlib parser; and the ids (Message-ID, VERP) that map mail back to a delivery."""

import email
import email.policy
import email.utils
from datetime import UTC, datetime
from email.header import decode_header, make_header

import pytest
from django.test import override_settings

from engagex.delivery.mime import (
    MailingEnvelope,
    MessageBuilder,
    message_id_for,
    message_id_parse,
    rfc5322_date,
    verp_address,
    verp_parse,
)

HTML = '<html><body><p style="color:#333">Hello {name}, our offer: <a href="https://x.example/t/c/1">shop</a></p></body></html>\n'
TEXT = "Hello {name}, our offer: shop (https://x.example/t/c/1)\n"


def make_envelope(**overrides):
    fields = {
        "organization_id": "org-1",
        "mailing_id": "mailing-1",
        "from_name": "Acme Store",
        "from_email": "news@acme.example",
        "reply_to": "Support Team <help@acme.example>",
        "bounce_domain": "bounces.acme.example",
        "feedback_id": "mailing-1:org-1:campaign:engagex",
        "extra_headers": (("X-EngageX-Campaign", "camp-42"),),
        "unsubscribe_mailto": "unsubscribe@bounces.acme.example",
    }
    fields.update(overrides)
    return MailingEnvelope(**fields)


def build(builder=None, **overrides):
    builder = builder or MessageBuilder(make_envelope())
    fields = {
        "delivery_id": 123,
        "to_email": "anna@example.com",
        "to_name": "Anna Example",
        "subject": "Autumn collection",
        "html": HTML.format(name="Anna"),
        "text": TEXT.format(name="Anna"),
        "unsubscribe_url": "https://app.example/u/tok123",
        "unsubscribe_token": "tok123",
    }
    fields.update(overrides)
    return builder.build(**fields)


def parse(data: bytes):
    return email.message_from_bytes(data, policy=email.policy.default)


def parts(message):
    return {part.get_content_type(): part for part in message.walk() if not part.is_multipart()}


def assert_wire_format(data: bytes):
    assert b"\n" not in data.replace(b"\r\n", b""), "bare LF"
    assert b"\r" not in data.replace(b"\r\n", b""), "bare CR"
    assert max(len(line) for line in data.split(b"\r\n")) <= 998


def test_headers_a_client_sees():
    built = build()
    message = parse(built.data)

    assert message["From"].addresses[0].display_name == "Acme Store"
    assert message["From"].addresses[0].addr_spec == "news@acme.example"
    assert message["To"].addresses[0].display_name == "Anna Example"
    assert message["To"].addresses[0].addr_spec == "anna@example.com"
    assert message["Subject"] == "Autumn collection"
    assert message["Reply-To"].addresses[0].addr_spec == "help@acme.example"
    assert message["Reply-To"].addresses[0].display_name == "Support Team"
    assert message["Feedback-ID"] == "mailing-1:org-1:campaign:engagex"
    assert message["X-EngageX-Campaign"] == "camp-42"
    assert message["MIME-Version"] == "1.0"
    assert message.get_content_type() == "multipart/alternative"
    assert message["Message-ID"] == built.message_id
    sent_at = email.utils.parsedate_to_datetime(message["Date"])
    assert abs((datetime.now(UTC) - sent_at).total_seconds()) < 5
    assert message["Precedence"] is None  # decided against: see the module docstring
    for name in ("From", "To", "Subject", "Date", "Message-ID", "List-Unsubscribe"):
        assert len(message.get_all(name)) == 1, name
    assert built.rcpt_to == "anna@example.com"
    assert built.needs_smtputf8 is False
    assert_wire_format(built.data)
    assert built.data.isascii()


def test_both_parts_are_utf8_and_decode_to_what_was_rendered():
    html = "<p>Grüße, Zoë — 🎉 «déjà vu» 中文</p>\n" * 50
    text = "Grüße, Zoë — 🎉\nLine two\n"
    message = parse(build(html=html, text=text).data)

    found = parts(message)
    assert set(found) == {"text/plain", "text/html"}
    assert [p.get_content_type() for p in message.iter_parts()] == ["text/plain", "text/html"]
    for content_type, expected in (("text/plain", text), ("text/html", html)):
        part = found[content_type]
        assert part.get_content_charset() == "utf-8"
        assert part.get_content().replace("\r\n", "\n") == expected


@pytest.mark.parametrize(
    ("body", "encoding"),
    [
        ("Plain ASCII, short lines.\nSecond line.\n", "7bit"),
        ("<p>" + "x=1 " * 400 + "</p>\n", "quoted-printable"),  # ASCII, a 1607-octet line
        ("tab\tand trailing space \nnext\n", "7bit"),
        ("contains the boundary prefix =_ex in ASCII\n", "quoted-printable"),
        ("bell \x07 is a control character\n", "quoted-printable"),
        ("Non-ASCII: naïve café\n", "base64"),
        ("中文内容" * 500, "base64"),
        ("windows\r\nline\rendings\n", "7bit"),
    ],
)
def test_body_transfer_encoding_fits_the_content(body, encoding):
    built = build(html=body, text=body)
    message = parse(built.data)

    for part in parts(message).values():
        assert part["Content-Transfer-Encoding"] == encoding
        expected = body.replace("\r\n", "\n").replace("\r", "\n")
        assert part.get_content().replace("\r\n", "\n") == expected
    assert_wire_format(built.data)


@pytest.mark.parametrize(
    "subject",
    [
        "Grüße 🎉",
        "Autumn collection: 20% off everything until Sunday, " * 6,  # long ASCII: folded
        "Ünïcödé " * 30,  # long Latin: several Q encoded-words
        "限时优惠全场八折欢迎光临我们的商店" * 5,  # CJK: B encoded-words
        "👩‍👩‍👧‍👦 family pack 🎉🎉🎉",  # ZWJ sequence and emoji
        "  spaces   collapse  ",
    ],
)
def test_subject_decodes_to_the_text_the_sender_wrote(subject):
    built = build(subject=subject)
    message = parse(built.data)

    assert message["Subject"] == " ".join(subject.split())
    header_lines = built.data.split(b"\r\n\r\n", 1)[0].split(b"\r\n")
    subject_at = next(i for i, line in enumerate(header_lines) if line.startswith(b"Subject:"))
    subject_lines = [header_lines[subject_at]]
    for line in header_lines[subject_at + 1 :]:
        if not line.startswith(b" "):
            break
        subject_lines.append(line)
    assert all(len(line) <= 78 for line in subject_lines), subject_lines
    assert_wire_format(built.data)


def test_an_ascii_subject_is_never_encoded():
    # rspamd scores encoded-words that decode to ASCII (SUBJ_EXCESS_QP/BASE64), so even a
    # subject that looks like an encoded-word is sent as the literal text.
    subject = "=?utf-8?q?looks_encoded?= but is plain text"

    assert f"Subject: {subject}\r\n".encode() in build(subject=subject).data


@pytest.mark.parametrize(
    "display_name",
    [
        'Doe, John "JD"',
        "O'Brien & Sons",
        'Müller, Hans "HM"',
        "Zoë",
        "J. R. R. Tolkien",
        "back\\slash",
        "李小龍",
        "Grüße Team Acme",
    ],
)
def test_display_names_survive_commas_quotes_and_non_ascii(display_name):
    builder = MessageBuilder(make_envelope(from_name=display_name))
    message = parse(build(builder, to_name=display_name).data)

    for header, address in (("From", "news@acme.example"), ("To", "anna@example.com")):
        (mailbox,) = message[header].addresses
        assert mailbox.display_name == display_name, header
        assert mailbox.addr_spec == address


def test_a_long_non_ascii_display_name_spans_several_encoded_words():
    display_name = "Ünïcödé Ünïcödé Ünïcödé Ünïcödé Ünïcödé Ünïcödé Ünïcödé"
    built = build(to_name=display_name)
    head = built.data.split(b"\r\n\r\n", 1)[0].decode("ascii")
    unfolded = head.replace("\r\n ", " ")
    to_value = next(line for line in unfolded.split("\r\n") if line.startswith("To: "))[4:]

    # Mail clients follow RFC 2047 §6.2 (whitespace between adjacent encoded-words is not
    # displayed); the legacy decoder does too, unlike the policy-based address parser.
    decoded = str(make_header(decode_header(to_value)))
    assert decoded == f"{display_name} <anna@example.com>"
    assert to_value.count("=?UTF-8?") >= 2
    assert all(len(line) <= 76 for line in head.split("\r\n") if "=?UTF-8?" in line)


def test_list_unsubscribe_offers_one_click_https_and_mailto():
    built = build(unsubscribe_url="https://app.example/u/abc", unsubscribe_token="tok-1.2_3")
    message = parse(built.data)

    assert message["List-Unsubscribe"] == (
        "<https://app.example/u/abc>, <mailto:unsubscribe@bounces.acme.example?subject=tok-1.2_3>"
    )
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"


def test_list_unsubscribe_escapes_the_token_in_the_mailto_uri():
    message = parse(build(unsubscribe_token="a b/c?d").data)

    assert "?subject=a%20b%2Fc%3Fd>" in message["List-Unsubscribe"]


def test_list_unsubscribe_without_a_mailto_address_has_only_the_url():
    builder = MessageBuilder(make_envelope(unsubscribe_mailto=""))
    message = parse(build(builder).data)

    assert message["List-Unsubscribe"] == "<https://app.example/u/tok123>"
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"


def test_message_id_is_the_same_for_a_retry_and_different_per_delivery():
    first = build(MessageBuilder(make_envelope()), delivery_id=7)
    retry = build(MessageBuilder(make_envelope()), delivery_id=7, subject="Changed")
    other = build(MessageBuilder(make_envelope()), delivery_id=8)

    assert first.message_id == retry.message_id == message_id_for(7, "bounces.acme.example")
    assert other.message_id != first.message_id
    assert first.message_id.startswith("<d7.") and first.message_id.endswith(
        "@bounces.acme.example>"
    )
    assert parse(first.data)["Message-ID"] == first.message_id


def test_message_id_cannot_be_guessed_from_the_delivery_id():
    with override_settings(SECRET_KEY="another-installation-secret-key-0123456789"):
        elsewhere = message_id_for(7, "bounces.acme.example")

    assert elsewhere != message_id_for(7, "bounces.acme.example")


def test_message_id_domain_prefers_the_explicit_one_then_bounce_then_from():
    explicit = make_envelope(message_id_domain="mid.acme.example")
    no_bounce = make_envelope(bounce_domain="")

    assert build(MessageBuilder(explicit)).message_id.endswith("@mid.acme.example>")
    assert build(MessageBuilder(no_bounce)).message_id.endswith("@acme.example>")


def test_message_id_parse_maps_back_and_rejects_forgeries():
    message_id = message_id_for(987654, "acme.example")
    forged = message_id.replace("<d987654.", "<d987655.")

    assert message_id_parse(message_id) == 987654
    assert message_id_parse(message_id.strip("<>").upper()) == 987654
    assert message_id_parse(forged) is None
    assert message_id_parse("<CAF=abc@mail.gmail.com>") is None


def test_verp_address_round_trips_and_is_the_envelope_sender():
    built = build(delivery_id=4_200_000_017)

    assert built.mail_from == verp_address(4_200_000_017, "bounces.acme.example")
    assert built.mail_from.startswith("bounce+")
    assert built.mail_from.endswith("@bounces.acme.example")
    assert verp_parse(built.mail_from) == 4_200_000_017
    assert verp_parse(f"<{built.mail_from.upper()}>") == 4_200_000_017  # case-folded by a relay
    assert verp_parse(verp_address(0, "b.example")) == 0


def test_forged_or_altered_verp_tokens_map_to_nothing():
    address = verp_address(123, "bounces.acme.example")
    local, domain = address.split("@")
    token = local.removeprefix("bounce+")
    delivery, mac = token.split("-")
    flipped = mac[:-1] + ("a" if mac[-1] != "a" else "b")
    other_delivery = verp_address(124, "bounces.acme.example").split("@")[0].split("-")[0]

    assert verp_parse(f"bounce+{delivery}-{flipped}@{domain}") is None
    assert verp_parse(f"{other_delivery}-{mac}@{domain}") is None
    assert verp_parse(f"bounce+0{delivery}-{mac}@{domain}") is None  # another spelling
    assert verp_parse(f"bounce+{delivery}@{domain}") is None
    assert verp_parse(f"bounces+{token}@{domain}") is None
    assert verp_parse("bounce+zzzzzzzzzzzzz-aaaaaaaaaa@x.example") is None
    assert verp_parse("not an address") is None
    with override_settings(SECRET_KEY="another-installation-secret-key-0123456789"):
        assert verp_parse(address) is None


def test_verp_tokens_survive_a_secret_key_rotation():
    old_secret = "old-secret-key-for-rotation-test-0123456789"
    with override_settings(SECRET_KEY=old_secret):
        address = verp_address(55, "bounces.acme.example")
        message_id = message_id_for(55, "acme.example")
    with override_settings(
        SECRET_KEY="new-secret-key-0123456789", SECRET_KEY_FALLBACKS=[old_secret]
    ):
        assert verp_parse(address) == 55
        assert message_id_parse(message_id) == 55


def test_without_a_bounce_domain_the_envelope_sender_is_the_from_address():
    built = build(MessageBuilder(make_envelope(bounce_domain="")))

    assert built.mail_from == "news@acme.example"


@pytest.mark.parametrize(
    "field",
    ["subject", "to_name"],
)
def test_header_injection_adds_no_header(field):
    built = build(**{field: "Hi\r\nBcc: evil@x.example\nX-Injected: 1\rEnd"})
    message = parse(built.data)

    assert message["Bcc"] is None
    assert message["X-Injected"] is None
    assert b"\r\nBcc:" not in built.data
    if field == "subject":
        assert message["Subject"] == "Hi Bcc: evil@x.example X-Injected: 1 End"
    else:
        assert message["To"].addresses[0].addr_spec == "anna@example.com"
    assert_wire_format(built.data)


def test_header_injection_through_the_mailing_settings_adds_no_header():
    envelope = make_envelope(
        from_name="Acme\r\nBcc: evil@x.example",
        feedback_id="a:b\r\nBcc: evil@x.example",
        extra_headers=(("X-Campaign", "c1\r\nBcc: evil@x.example"),),
    )
    message = parse(build(MessageBuilder(envelope)).data)

    assert message["Bcc"] is None
    assert message["X-Campaign"] == "c1 Bcc: evil@x.example"


@pytest.mark.parametrize(
    "to_email",
    [
        "anna@example.com\r\nBcc: evil@x.example",
        "anna@example.com>, evil@x.example",
        "no-at-sign.example.com",
        "@example.com",
        "anna@",
        '"quoted local"@example.com',
    ],
)
def test_an_invalid_recipient_address_is_refused(to_email):
    with pytest.raises(ValueError):
        build(to_email=to_email)


@pytest.mark.parametrize(
    "url",
    ["https://app.example/u/1>\r\nBcc: evil@x.example", "javascript:alert(1)", "https://a b"],
)
def test_an_invalid_unsubscribe_url_is_refused(url):
    with pytest.raises(ValueError):
        build(unsubscribe_url=url)


@pytest.mark.parametrize(
    "overrides",
    [
        {"from_email": "not-an-address"},
        {"extra_headers": (("Bcc", "evil@x.example"),)},
        {"extra_headers": (("List-Unsubscribe", "<https://evil.example>"),)},
        {"extra_headers": (("Bad Name", "x"),)},
        {"extra_headers": (("X-Colon:", "x"),)},
        {"feedback_id": "ünïcode:feedback"},
        {"bounce_domain": "bad domain.example"},
    ],
)
def test_an_invalid_mailing_envelope_is_refused(overrides):
    with pytest.raises(ValueError):
        MessageBuilder(make_envelope(**overrides))


def test_an_internationalised_domain_is_sent_as_idna():
    built = build(to_email="anna@bücher.example", to_name="Anna")

    assert built.rcpt_to == "anna@xn--bcher-kva.example"
    assert built.needs_smtputf8 is False
    assert parse(built.data)["To"].addresses[0].addr_spec == "anna@xn--bcher-kva.example"
    assert built.data.isascii()


def test_a_non_ascii_local_part_needs_smtputf8():
    built = build(to_email="jöe@bücher.example", to_name="Jöe")

    assert built.rcpt_to == "jöe@xn--bcher-kva.example"
    assert built.needs_smtputf8 is True
    # The stdlib bytes parser doesn't implement RFC 6532 (UTF-8 headers); parse as text.
    message = email.message_from_string(built.data.decode("utf-8"), policy=email.policy.default)
    assert message["To"].addresses[0].addr_spec == "jöe@xn--bcher-kva.example"
    assert message["To"].addresses[0].display_name == "Jöe"


def test_date_is_rfc5322_in_utc():
    timestamp = 1_767_225_599  # 2025-12-31 23:59:59 UTC, a Wednesday

    assert rfc5322_date(timestamp) == "Wed, 31 Dec 2025 23:59:59 +0000"
    assert email.utils.parsedate_to_datetime(rfc5322_date(timestamp)) == datetime.fromtimestamp(
        timestamp, UTC
    )
