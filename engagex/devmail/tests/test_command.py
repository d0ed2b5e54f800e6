import socket

import pytest
from django.core.management import CommandError, call_command


def test_refuses_to_run_outside_development(settings):
    settings.DEBUG = False
    with pytest.raises(CommandError, match="only with DEBUG on"):
        call_command("devmail", port=0)


def test_port_in_use_is_a_clear_error(settings):
    settings.DEBUG = True
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        with pytest.raises(CommandError, match=f"cannot listen on 127.0.0.1:{port}"):
            call_command("devmail", host="127.0.0.1", port=port)
