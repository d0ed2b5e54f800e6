from __future__ import annotations

import hmac

from django.conf import settings
from django.http import HttpResponse, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from engagex.monitoring.health import health_report
from engagex.monitoring.metrics import REGISTRY


@require_safe
@never_cache
def health(request):
    report = health_report()
    return JsonResponse(report, status=200 if report["status"] == "ok" else 503)


@require_safe
@never_cache
def metrics(request):
    if settings.METRICS_TOKEN:
        supplied = request.headers.get("Authorization", "").removeprefix("Bearer ").strip()
        if not hmac.compare_digest(supplied.encode(), settings.METRICS_TOKEN.encode()):
            return HttpResponse("metrics token required\n", status=401, content_type="text/plain")
    return HttpResponse(generate_latest(REGISTRY), content_type=CONTENT_TYPE_LATEST)
