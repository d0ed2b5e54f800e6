import pytest
from django.core.exceptions import ImproperlyConfigured

from engagex.lib.database_url import database_config_from_url


def test_tcp_url_with_credentials_and_options():
    config = database_config_from_url(
        "postgresql://app:s%40cret@db.internal:6432/engagex?sslmode=require"
    )
    assert config["ENGINE"] == "django.db.backends.postgresql"
    assert (config["USER"], config["PASSWORD"]) == ("app", "s@cret")
    assert (config["HOST"], config["PORT"], config["NAME"]) == ("db.internal", "6432", "engagex")
    assert config["OPTIONS"] == {"sslmode": "require"}


def test_unix_socket_as_query_parameter():
    config = database_config_from_url("postgres://postgres@/engagex?host=/run/Postgres")
    assert config["HOST"] == "/run/Postgres"
    assert config["PORT"] == ""


def test_unix_socket_percent_encoded_keeps_case():
    config = database_config_from_url("postgresql://postgres@%2Fvar%2FRun%2Fpg/engagex")
    assert config["HOST"] == "/var/Run/pg"


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("", "empty"),
        ("mysql://u:p@host/db", "scheme must be postgresql"),
        ("postgresql://u:p@host", "must name a database"),
        ("postgresql://u:p@host:notaport/db", "Port could not be cast"),
        ("postgresql:///engagex", "must name a host"),
        ("postgresql://u:p@host/db?sslmod=require", "unknown option(s) sslmod"),
        ("just some text", "scheme must be postgresql"),
    ],
)
def test_malformed_url_names_the_variable_and_the_problem(url, reason):
    with pytest.raises(ImproperlyConfigured) as error:
        database_config_from_url(url)
    message = str(error.value)
    assert message.startswith("DATABASE_URL is malformed")
    assert reason in message


def test_error_never_echoes_the_password():
    with pytest.raises(ImproperlyConfigured) as error:
        database_config_from_url("postgresql://app:hunter2secret@host")
    assert "hunter2secret" not in str(error.value)
