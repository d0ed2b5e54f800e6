"""Open and click tokens: what they name, and that nothing else passes for one."""

import pytest
from django.test import override_settings

from engagex.tracking.tokens import (
    TokenMaker,
    click_parse,
    click_token,
    open_parse,
    open_token,
)


def test_tokens_name_their_delivery_and_link():
    assert open_parse(open_token(123456789)) == 123456789
    assert click_parse(click_token(123456789, 7)) == (123456789, 7)
    assert TokenMaker().clicks(42, 3) == [click_token(42, n) for n in range(3)]
    assert len(click_token(2**62, 99)) <= 32  # compact enough for a link


def test_an_open_token_is_not_a_click_token_and_the_other_way_round():
    assert click_parse(open_token(5)) is None
    assert open_parse(click_token(5, 0).replace(".0.", ".")) is None


@pytest.mark.parametrize(
    "alter",
    [
        lambda t: t[:-1] + ("A" if t[-1] != "A" else "B"),  # one character of the MAC
        lambda t: "1" + t,  # another delivery
        lambda t: t.replace(".3.", ".4."),  # another link
        lambda t: t.replace(".3.", ".03."),  # the same link, spelt differently
        lambda t: t[:-3],  # truncated
        lambda t: t + "x",
        lambda t: "",
        lambda t: "..",
        lambda t: "zzzzzzzzzzzzzzzzzzzzzzzzz.3." + t.rsplit(".", 1)[1],
        lambda t: t.upper(),
    ],
)
def test_forged_altered_or_truncated_click_tokens_are_refused(alter):
    token = click_token(98765, 3)
    assert click_parse(alter(token)) is None


def test_forged_open_tokens_are_refused():
    token = open_token(98765)
    assert open_parse(token[:-1] + ("x" if token[-1] != "x" else "y")) is None
    assert open_parse("0" + token) is None
    assert open_parse(token.split(".")[0] + ".") is None


def test_tokens_survive_a_secret_key_rotation():
    with override_settings(SECRET_KEY="old-key-" + "x" * 40):
        old_open, old_click = open_token(77), click_token(77, 1)
    with override_settings(
        SECRET_KEY="new-key-" + "y" * 40, SECRET_KEY_FALLBACKS=["old-key-" + "x" * 40]
    ):
        assert open_parse(old_open) == 77
        assert click_parse(old_click) == (77, 1)
    with override_settings(SECRET_KEY="new-key-" + "y" * 40, SECRET_KEY_FALLBACKS=[]):
        assert open_parse(old_open) is None
