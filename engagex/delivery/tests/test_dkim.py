"""DKIM signatures checked by a verifier written here from RFC 6376, independently of the
signer (dkimpy is not installed): line-by-line canonicalisation instead of the signer's
whole-buffer byte operations, the public key taken from the DNS TXT record text, and
`cryptography`'s RSA verification."""

import base64
import hashlib
import re
import secrets
import time

import pytest
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from engagex.delivery.dkim import (
    DkimSigner,
    canonicalize_body_relaxed,
    canonicalize_header_relaxed,
    dns_txt_record,
    generate_key_pair,
)
from engagex.delivery.mime import MailingEnvelope, MessageBuilder

DOMAIN = "acme.example"
SELECTOR = "ex2026"


@pytest.fixture(scope="module")
def key_pair():
    return generate_key_pair()


@pytest.fixture(scope="module")
def dns(key_pair):
    """The TXT records a verifier would look up."""
    _, public_key = key_pair
    return {f"{SELECTOR}._domainkey.{DOMAIN}": dns_txt_record(public_key)}


@pytest.fixture(scope="module")
def signer(key_pair):
    private_pem, _ = key_pair
    return DkimSigner(domain=DOMAIN, selector=SELECTOR, private_key_pem=private_pem)


# --- the independent verifier -------------------------------------------------------------


def _fields(head: bytes) -> list[tuple[bytes, bytes]]:
    """(name, raw value incl. folding) in message order."""
    fields: list[list[bytes]] = []
    for line in head.split(b"\r\n"):
        if line.startswith((b" ", b"\t")):
            fields[-1][1] += b"\r\n" + line
        else:
            name, _, value = line.partition(b":")
            fields.append([name, value])
    return [(name, value) for name, value in fields]


def _relaxed_header(name: bytes, value: bytes) -> bytes:
    unfolded = value.replace(b"\r\n", b"")
    words = [word for word in re.split(rb"[ \t]+", unfolded) if word]
    return name.strip().lower() + b":" + b" ".join(words) + b"\r\n"


def _relaxed_body(body: bytes) -> bytes:
    lines = body.split(b"\r\n")
    if lines and lines[-1] == b"":
        lines.pop()  # the final CRLF ends the last line, it doesn't start a new one
    canonical = []
    for line in lines:
        line = re.sub(rb"[ \t]+", b" ", line)
        while line.endswith(b" "):
            line = line[:-1]
        canonical.append(line)
    while canonical and canonical[-1] == b"":
        canonical.pop()
    return b"".join(line + b"\r\n" for line in canonical)


def verify(message: bytes, dns: dict[str, str]) -> tuple[bool, str]:
    head, _, body = message.partition(b"\r\n\r\n")
    fields = _fields(head)
    signature_field = next(value for name, value in fields if name.lower() == b"dkim-signature")
    tags = {}
    for part in signature_field.replace(b"\r\n", b"").split(b";"):
        if part.strip():
            tag, _, value = part.partition(b"=")
            tags[tag.strip().decode()] = re.sub(rb"\s", b"", value).decode()
    if tags["v"] != "1" or tags["a"] != "rsa-sha256" or tags["c"] != "relaxed/relaxed":
        return False, f"unexpected tags {tags}"
    if "l" in tags:
        return False, "l= must not be used"

    body_hash = base64.b64encode(hashlib.sha256(_relaxed_body(body)).digest()).decode()
    if body_hash != tags["bh"]:
        return False, "body hash mismatch"

    # RFC 6376 §5.4.2: repeated names are taken from the bottom of the header block up.
    remaining: dict[bytes, list[tuple[bytes, bytes]]] = {}
    for name, value in fields:
        remaining.setdefault(name.strip().lower(), []).append((name, value))
    signed = b""
    for name in tags["h"].encode().split(b":"):
        instances = remaining.get(name.lower(), [])
        if instances:
            signed += _relaxed_header(*instances.pop())
    without_b = re.sub(rb"(^|;)(\s*b\s*=)[^;]*", rb"\1\2", signature_field)
    signed += _relaxed_header(b"DKIM-Signature", without_b)[:-2]

    record = dns[f"{tags['s']}._domainkey.{tags['d']}"]
    record_tags = dict(part.strip().split("=", 1) for part in record.split(";") if part.strip())
    public_key = serialization.load_der_public_key(base64.b64decode(record_tags["p"]))
    try:
        public_key.verify(base64.b64decode(tags["b"]), signed, padding.PKCS1v15(), hashes.SHA256())
    except InvalidSignature:
        return False, "signature mismatch"
    return True, "ok"


def signature_tags(message: bytes) -> dict[str, str]:
    head = message.partition(b"\r\n\r\n")[0]
    value = next(v for n, v in _fields(head) if n.lower() == b"dkim-signature")
    return {
        part.partition(b"=")[0].strip().decode(): re.sub(
            rb"\s", b"", part.partition(b"=")[2]
        ).decode()
        for part in value.replace(b"\r\n", b"").split(b";")
        if part.strip()
    }


def built_message(signer, **overrides):
    envelope = MailingEnvelope(
        organization_id="org-1",
        mailing_id="mailing-1",
        from_name="Acme Störe",
        from_email=f"news@{DOMAIN}",
        reply_to=f"help@{DOMAIN}",
        bounce_domain=f"bounces.{DOMAIN}",
        feedback_id="mailing-1:org-1:campaign:engagex",
        unsubscribe_mailto=f"unsubscribe@bounces.{DOMAIN}",
    )
    fields = {
        "delivery_id": 42,
        "to_email": "anna@example.com",
        "to_name": "Anna Example",
        "subject": "Grüße 🎉 — our autumn collection is here, with a subject long enough to fold",
        "html": "<p>Hallo Anna, schöne Grüße</p>\n" * 200,
        "text": "Hallo Anna,\n\nschöne Grüße\n\n\n\n",
        "unsubscribe_url": "https://app.example/u/abc",
        "unsubscribe_token": "abc",
    }
    fields.update(overrides)
    return MessageBuilder(envelope, signer=signer).build(**fields).data


RAW = (
    b"From: Acme <news@acme.example>\r\n"
    b"To: anna@example.com\r\n"
    b"Subject: =?UTF-8?Q?Gr=C3=BC=C3=9Fe?= and a subject that is\r\n"
    b"\tfolded  over  two lines   \r\n"
    b"Date: Wed, 31 Dec 2025 23:59:59 +0000\r\n"
    b"Message-ID: <d1.abcdefgh@acme.example>\r\n"
    b"\r\n"
    b"Hello  world \t\r\n"
    b" indented line\r\n"
    b"\r\n"
    b"\r\n"
    b"\r\n"
)


# --- tests ----------------------------------------------------------------------------------


def test_a_built_message_verifies(signer, dns):
    message = built_message(signer)

    ok, reason = verify(message, dns)
    assert ok, reason
    assert message.startswith(b"DKIM-Signature: ")
    tags = signature_tags(message)
    assert tags["d"] == DOMAIN and tags["s"] == SELECTOR
    assert abs(int(tags["t"]) - time.time()) < 60
    assert tags["h"].split(":") == [
        "from",
        "to",
        "subject",
        "date",
        "message-id",
        "mime-version",
        "content-type",
        "list-unsubscribe",
        "list-unsubscribe-post",
        "reply-to",
        "feedback-id",
    ]
    assert max(len(line) for line in message.split(b"\r\n")) <= 998


def test_folded_headers_encoded_subject_and_trailing_blank_lines_verify(signer, dns):
    ok, reason = verify(signer.sign(RAW), dns)

    assert ok, reason


def test_a_tampered_body_fails(signer, dns):
    message = built_message(signer, text="Pay invoice 1001\n")
    tampered = message.replace(b"Pay invoice 1001", b"Pay invoice 6666")
    assert tampered != message

    assert verify(tampered, dns) == (False, "body hash mismatch")


def test_a_tampered_subject_fails(signer, dns):
    message = signer.sign(RAW)
    tampered = message.replace(b"folded  over", b"faked  over")

    assert verify(tampered, dns) == (False, "signature mismatch")


def test_a_tampered_recipient_fails(signer, dns):
    message = built_message(signer)
    tampered = message.replace(b"<anna@example.com>", b"<mallory@example.com>", 1)
    assert tampered != message

    assert verify(tampered, dns) == (False, "signature mismatch")


def test_an_added_list_unsubscribe_target_fails(signer, dns):
    message = built_message(signer)
    tampered = message.replace(b"<https://app.example/u/abc>", b"<https://evil.example/u>")

    assert verify(tampered, dns) == (False, "signature mismatch")


def test_relaxed_canonicalisation_survives_what_relays_change(signer, dns):
    message = signer.sign(RAW)
    # A relay refolds a header, changes whitespace, adds trailing spaces and blank lines.
    relayed = (
        message.replace(
            b"Subject: =?UTF-8?Q?Gr=C3=BC=C3=9Fe?= and",
            b"Subject:   =?UTF-8?Q?Gr=C3=BC=C3=9Fe?=\r\n and",
        )
        .replace(b"To: anna@example.com", b"TO:anna@example.com   ")
        .replace(b"Hello  world", b"Hello \t world")
        + b"\r\n\r\n"
    )
    assert relayed != message

    ok, reason = verify(relayed, dns)
    assert ok, reason


def test_repeated_headers_are_signed_bottom_up(key_pair, dns):
    signer = DkimSigner(
        domain=DOMAIN,
        selector=SELECTOR,
        private_key_pem=key_pair[0],
        headers=("from", "x-tag", "subject"),
    )
    message = RAW.replace(b"To: ", b"X-Tag: first\r\nX-Tag: second\r\nTo: ")
    signed = signer.sign(message)

    assert signature_tags(signed)["h"] == "from:x-tag:x-tag:subject"
    ok, reason = verify(signed, dns)
    assert ok, reason
    swapped = signed.replace(b"X-Tag: first\r\nX-Tag: second", b"X-Tag: second\r\nX-Tag: first")
    assert verify(swapped, dns) == (False, "signature mismatch")


def test_only_headers_present_are_listed(signer):
    names = signature_tags(signer.sign(RAW))["h"].split(":")

    assert names == ["from", "to", "subject", "date", "message-id"]


def test_a_message_with_lf_line_endings_is_signed_as_crlf(signer, dns):
    signed = signer.sign(RAW.replace(b"\r\n", b"\n"))

    assert b"\n" not in signed.replace(b"\r\n", b"")
    ok, reason = verify(signed, dns)
    assert ok, reason


def test_rfc_6376_canonicalisation_example():
    # RFC 6376 §3.4.5, relaxed/relaxed.
    assert canonicalize_header_relaxed(b"A", b" X") == b"a:X"
    assert canonicalize_header_relaxed(b"B ", b" Y\t\r\n\tZ  ") == b"b:Y Z"
    body = b" C \r\nD \t E\r\n\r\n\r\n"
    assert canonicalize_body_relaxed(body) == b" C\r\nD E\r\n"


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"\r\n\r\n",
        b"no final line break",
        b"trailing spaces   ",
        b"a\r\n \r\n\t\r\n",
        b"  lead\r\nx  y\t\tz \r\n",
        b"Content-Type: text/plain\r\n\r\nQUJD\r\nREVG\r\n",
        b"one space per word " * 40 + b"\r\nend\r\n",
    ],
)
def test_body_canonicalisation_matches_the_line_by_line_reading(body):
    assert canonicalize_body_relaxed(body) == _relaxed_body(body)


def test_empty_body_hash_is_the_rfc_value():
    digest = hashlib.sha256(canonicalize_body_relaxed(b"")).digest()

    assert base64.b64encode(digest) == b"47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU="


def test_dns_record_publishes_the_signers_public_key(key_pair, signer):
    _, public_key = key_pair

    assert dns_txt_record(public_key) == f"v=DKIM1; k=rsa; p={public_key}"
    assert signer.public_key_b64 == public_key
    loaded = serialization.load_der_public_key(base64.b64decode(public_key))
    assert isinstance(loaded, rsa.RSAPublicKey) and loaded.key_size == 2048


@pytest.mark.parametrize(
    "kwargs",
    [
        {"selector": "bad selector"},
        {"domain": "not a domain"},
        {"headers": ("to", "subject")},  # From must be signed
        {"headers": ("from", "bad:name")},
    ],
)
def test_invalid_signer_settings_are_refused(key_pair, kwargs):
    settings = {"domain": DOMAIN, "selector": SELECTOR, "private_key_pem": key_pair[0]}
    settings.update(kwargs)

    with pytest.raises(ValueError):
        DkimSigner(**settings)


def _probable_prime(bits: int) -> int:
    """A random prime (Miller-Rabin): cryptography won't generate keys under 1024 bits."""
    while True:
        candidate = secrets.randbits(bits) | (1 << (bits - 1)) | 1
        d, r = candidate - 1, 0
        while d % 2 == 0:
            d, r = d // 2, r + 1
        for base in (2, 3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37):
            x = pow(base, d, candidate)
            if x in (1, candidate - 1):
                continue
            for _ in range(r - 1):
                x = pow(x, 2, candidate)
                if x == candidate - 1:
                    break
            else:
                break  # composite
        else:
            if candidate % 65537 != 1:
                return candidate


def test_short_keys_are_refused():
    p, q = _probable_prime(256), _probable_prime(256)
    d = pow(65537, -1, (p - 1) * (q - 1))
    public = rsa.RSAPublicNumbers(65537, p * q)
    short = rsa.RSAPrivateNumbers(p, q, d, d % (p - 1), d % (q - 1), pow(q, -1, p), public)
    pem = short.private_key().private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.NoEncryption(),
    )

    with pytest.raises(ValueError, match="at least 1024"):
        DkimSigner(domain=DOMAIN, selector=SELECTOR, private_key_pem=pem)
    with pytest.raises(ValueError):
        generate_key_pair(bits=512)


def test_a_message_without_from_is_refused(signer):
    with pytest.raises(ValueError):
        signer.sign(RAW.replace(b"From: Acme <news@acme.example>\r\n", b""))


def test_a_non_base64_public_key_is_refused():
    with pytest.raises(ValueError):
        dns_txt_record("not base64; p=evil")
