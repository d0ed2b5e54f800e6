"""Structured logging: every record (ours, Django's, procrastinate's) goes through structlog.

JSON lines in production, a readable console format in development. The request
id bound by the request middleware appears on every line logged during a request.
"""

from __future__ import annotations

import logging.config
import sys

import structlog


def logging_config(*, level: str, json_format: bool) -> None:
    shared_processors: list = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]
    renderer = (
        structlog.processors.JSONRenderer()
        if json_format
        else structlog.dev.ConsoleRenderer(colors=sys.stderr.isatty())
    )
    logging.config.dictConfig(
        {
            "version": 1,
            "disable_existing_loggers": False,
            "formatters": {
                "structlog": {
                    "()": structlog.stdlib.ProcessorFormatter,
                    "processors": [
                        structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                        structlog.processors.format_exc_info,
                        renderer,
                    ],
                    "foreign_pre_chain": shared_processors,
                }
            },
            "handlers": {
                "console": {"class": "logging.StreamHandler", "formatter": "structlog"},
            },
            "root": {"handlers": ["console"], "level": level},
            "loggers": {
                # Our middleware logs every request once, with its request id.
                "django.server": {"level": "WARNING"},
                "aiosmtpd": {"level": "WARNING"},
                "mail.log": {"level": "WARNING"},
                # Procrastinate narrates every job at INFO (a heartbeat every 10 s);
                # our tasks log what matters.
                "procrastinate": {"level": "WARNING" if level == "INFO" else level},
            },
        }
    )
    structlog.configure(
        processors=[
            *shared_processors,
            structlog.stdlib.PositionalArgumentsFormatter(),
            structlog.processors.StackInfoRenderer(),
            structlog.stdlib.ProcessorFormatter.wrap_for_formatter,
        ],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )
