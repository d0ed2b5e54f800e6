"""Network helpers shared by the launcher and the servers it starts."""

import socket


def port_is_free(host: str, port: int) -> bool:
    """True when nothing is listening on host:port (so we can)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError:
            return False
    return True
