"""Request id, structured request log and request metrics for every request."""

from __future__ import annotations

import re
import time
import uuid

import structlog

from engagex.monitoring import metrics

logger = structlog.get_logger("engagex.request")

_VALID_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")
_KNOWN_METHODS = {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"}
_QUIET_PATHS = {"/health", "/metrics"}


class RequestObservabilityMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        incoming = request.headers.get("X-Request-ID", "")
        request_id = incoming if _VALID_REQUEST_ID.match(incoming) else uuid.uuid4().hex
        request.request_id = request_id
        structlog.contextvars.clear_contextvars()
        structlog.contextvars.bind_contextvars(request_id=request_id)

        started = time.perf_counter()
        response = self.get_response(request)
        seconds = time.perf_counter() - started

        match = getattr(request, "resolver_match", None)
        # Routes, not paths: label cardinality stays bounded whatever URLs clients try.
        route = "/" + match.route if match is not None else "<unmatched>"
        method = request.method if request.method in _KNOWN_METHODS else "OTHER"
        metrics.observe_request(
            method=method, route=route, status=response.status_code, seconds=seconds
        )
        response["X-Request-ID"] = request_id

        log = logger.debug if request.path in _QUIET_PATHS else logger.info
        if response.status_code >= 500:
            log = logger.error
        log(
            "request",
            method=request.method,
            path=request.path,
            route=route,
            status=response.status_code,
            duration_ms=round(seconds * 1000, 1),
        )
        structlog.contextvars.clear_contextvars()
        return response
