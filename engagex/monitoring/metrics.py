"""Prometheus metrics served at /metrics.

Request metrics are recorded by the request middleware. Queue and worker figures
are read from the database at scrape time, so they are always current and cost
nothing between scrapes.

The registry is per process: run one web process per metrics target (or switch
prometheus_client to multiprocess mode when running several workers).
"""

from __future__ import annotations

import structlog
from prometheus_client import (
    PLATFORM_COLLECTOR,
    PROCESS_COLLECTOR,
    CollectorRegistry,
    Counter,
    Histogram,
)
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

logger = structlog.get_logger(__name__)

REGISTRY = CollectorRegistry(auto_describe=True)
REGISTRY.register(PROCESS_COLLECTOR)
REGISTRY.register(PLATFORM_COLLECTOR)

HTTP_REQUESTS = Counter(
    "engagex_http_requests",
    "HTTP requests handled, by method, URL route and status code.",
    ["method", "route", "status"],
    registry=REGISTRY,
)
HTTP_LATENCY = Histogram(
    "engagex_http_request_duration_seconds",
    "Time spent handling HTTP requests, by method and URL route.",
    ["method", "route"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
    registry=REGISTRY,
)


def observe_request(*, method: str, route: str, status: int, seconds: float) -> None:
    HTTP_REQUESTS.labels(method, route, str(status)).inc()
    HTTP_LATENCY.labels(method, route).observe(seconds)


class JobQueueCollector(Collector):
    def describe(self):
        # Without this, registering would call collect() (a database query) at import.
        return []

    def collect(self):
        from engagex.jobs.selectors import heartbeat_age_seconds, queue_depth_by_queue

        try:
            depths = queue_depth_by_queue()
            heartbeat_age = heartbeat_age_seconds()
        except Exception:  # a scrape must not fail because the database is down
            logger.warning("metrics_queue_unavailable", exc_info=True)
            return
        depth = GaugeMetricFamily(
            "engagex_job_queue_depth", "Jobs waiting to run, by queue.", labels=["queue"]
        )
        for queue, count in sorted(depths.items()):
            depth.add_metric([queue], count)
        yield depth
        if heartbeat_age is not None:
            yield GaugeMetricFamily(
                "engagex_worker_heartbeat_age_seconds",
                "Seconds since the newest worker heartbeat.",
                value=heartbeat_age,
            )


REGISTRY.register(JobQueueCollector())
