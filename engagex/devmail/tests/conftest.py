import socket

import pytest

from engagex.devmail.smtp import capture_controller


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def capture_server(transactional_db):
    """The real capture SMTP server on a free port, storing into the test database."""
    controller = capture_controller("127.0.0.1", free_port())
    controller.start()
    yield controller
    controller.stop()
