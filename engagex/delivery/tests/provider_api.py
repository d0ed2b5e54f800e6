"""A local HTTP server standing in for an email provider's API in tests (DESIGN.md §9:
provider APIs are unreachable here, so a fake that speaks their HTTP).

Point anymail at it with the provider's API URL setting, as an operator would:
`settings.ANYMAIL = {"POSTMARK_API_URL": api.url + "/"}`. Each request is recorded; the
answer comes from the first matching route (method + path), else 404.
"""

from __future__ import annotations

import contextlib
import json
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Request:
    method: str
    path: str
    headers: dict
    body: bytes

    def json(self):
        return json.loads(self.body or b"null")


Answer = tuple[int, object]  # (status, JSON body or raw text)


@dataclass
class FakeProviderApi:
    url: str = ""
    requests: list[Request] = field(default_factory=list)
    routes: list[tuple[str, str, Callable[[Request], Answer]]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def route(self, method: str, path: str, answer: Answer | Callable[[Request], Answer]):
        """Answer `method path` (exact, or a prefix ending in "*") with `answer`."""
        respond = answer if callable(answer) else (lambda request: answer)
        self.routes.insert(0, (method, path, respond))

    def answer(self, request: Request) -> Answer:
        with self.lock:
            self.requests.append(request)
        for method, path, respond in self.routes:
            if method == request.method and (
                request.path == path or (path.endswith("*") and request.path.startswith(path[:-1]))
            ):
                return respond(request)
        return 404, {"message": f"no route for {request.method} {request.path}"}


def _handler(api: FakeProviderApi):
    class Handler(BaseHTTPRequestHandler):
        def _serve(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            request = Request(
                self.command,
                self.path,
                {key.lower(): value for key, value in self.headers.items()},
                self.rfile.read(length) if length else b"",
            )
            status, body = api.answer(request)
            raw = body.encode() if isinstance(body, str) else json.dumps(body).encode()
            self.send_response(status)
            self.send_header(
                "Content-Type", "text/plain" if isinstance(body, str) else "application/json"
            )
            self.send_header("Content-Length", str(len(raw)))
            self.end_headers()
            self.wfile.write(raw)

        do_GET = do_POST = _serve

        def log_message(self, *args) -> None:  # keep test output quiet
            pass

    return Handler


@contextlib.contextmanager
def provider_api():
    api = FakeProviderApi()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(api))
    server.daemon_threads = True
    api.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield api
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
