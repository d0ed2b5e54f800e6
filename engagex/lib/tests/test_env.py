import pytest
from django.core.exceptions import ImproperlyConfigured

from engagex.lib.env import env_bool, env_choice, env_int, env_list, env_str


def test_values_are_read_and_typed(monkeypatch):
    monkeypatch.setenv("X_BOOL", "Yes")
    monkeypatch.setenv("X_INT", "42")
    monkeypatch.setenv("X_LIST", "a.example, b.example,,")
    monkeypatch.setenv("X_CHOICE", "JSON")
    assert env_bool("X_BOOL", False) is True
    assert env_int("X_INT", 1, minimum=1, maximum=100) == 42
    assert env_list("X_LIST", []) == ["a.example", "b.example"]
    assert env_choice("X_CHOICE", "console", ("console", "json")) == "json"


def test_defaults_apply_when_unset(monkeypatch):
    monkeypatch.delenv("X_UNSET", raising=False)
    assert env_bool("X_UNSET", True) is True
    assert env_int("X_UNSET", 7) == 7
    assert env_str("X_UNSET", "fallback") == "fallback"


@pytest.mark.parametrize(
    ("reader", "raw", "message"),
    [
        (lambda: env_bool("X_BAD", False), "maybe", "X_BAD must be a boolean"),
        (lambda: env_int("X_BAD", 1), "ten", "X_BAD must be an integer"),
        (lambda: env_int("X_BAD", 1, minimum=5), "3", "X_BAD must be at least 5"),
        (lambda: env_int("X_BAD", 1, maximum=5), "9", "X_BAD must be at most 5"),
        (lambda: env_choice("X_BAD", "a", ("a", "b")), "c", "X_BAD must be one of a, b"),
    ],
)
def test_bad_values_fail_loudly_naming_the_variable(monkeypatch, reader, raw, message):
    monkeypatch.setenv("X_BAD", raw)
    with pytest.raises(ImproperlyConfigured, match=message):
        reader()


def test_required_variable_missing(monkeypatch):
    monkeypatch.delenv("X_REQUIRED", raising=False)
    with pytest.raises(ImproperlyConfigured, match="X_REQUIRED must be set"):
        env_str("X_REQUIRED")


def test_empty_values_mean_default(monkeypatch):
    # A copied .env.example is full of blanks: they must not change behaviour.
    for name in ("X_EMPTY_BOOL", "X_EMPTY_INT", "X_EMPTY_STR", "X_EMPTY_CHOICE", "X_EMPTY_LIST"):
        monkeypatch.setenv(name, "")
    assert env_bool("X_EMPTY_BOOL", True) is True
    assert env_int("X_EMPTY_INT", 5) == 5
    assert env_str("X_EMPTY_STR", "default") == "default"
    assert env_choice("X_EMPTY_CHOICE", "b", ("a", "b")) == "b"
    assert env_list("X_EMPTY_LIST", ["x"]) == ["x"]
