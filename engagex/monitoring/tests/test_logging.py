import json
import os
import subprocess
import sys

SCRIPT = """
import django, logging, structlog
django.setup()
structlog.contextvars.bind_contextvars(request_id="abc123abc123")
structlog.get_logger("engagex.test").info("contact_imported", rows=3)
logging.getLogger("django.request").warning("plain stdlib %s", "message")
"""


def test_production_logs_are_json_lines_with_context():
    env = dict(os.environ, LOG_FORMAT="json", DJANGO_SETTINGS_MODULE="engagex.settings")
    result = subprocess.run(
        [sys.executable, "-c", SCRIPT], env=env, capture_output=True, text=True, check=True
    )
    lines = [json.loads(line) for line in result.stderr.splitlines() if line.startswith("{")]
    ours = next(line for line in lines if line["event"] == "contact_imported")
    assert ours["rows"] == 3
    assert ours["request_id"] == "abc123abc123"
    assert ours["level"] == "info" and ours["logger"] == "engagex.test"
    assert "timestamp" in ours
    stdlib = next(line for line in lines if line["event"] == "plain stdlib message")
    assert stdlib["level"] == "warning"
