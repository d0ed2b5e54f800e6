"""What /health reports: database reachable, worker alive, jobs waiting."""

from __future__ import annotations

from typing import Any

import structlog
from django.conf import settings
from django.db import DatabaseError, connection

logger = structlog.get_logger(__name__)


def health_report() -> dict[str, Any]:
    from engagex.jobs.selectors import heartbeat_age_seconds, queue_depth

    report: dict[str, Any] = {
        "status": "ok",
        "database": "ok",
        "worker": "ok",
        "queue_depth": None,
    }
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        age = heartbeat_age_seconds()
        report["queue_depth"] = queue_depth()
    except DatabaseError as error:
        logger.warning("health_database_down", error=str(error).strip().splitlines()[0])
        report.update(database="down", worker="unknown")
        age = None
    else:
        report["worker_heartbeat_age_seconds"] = None if age is None else round(age, 1)
        if age is None or age > settings.WORKER_HEARTBEAT_MAX_AGE:
            report["worker"] = "down"

    down = [part for part in ("database", "worker") if report[part] != "ok"]
    if down:
        report["status"] = "error"
        report["down"] = down
    return report
