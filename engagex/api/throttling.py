"""Per-key rate limit (PRODUCT.md §K): 429 with `Retry-After` when a key goes over.

Counters live in the default cache (PostgreSQL-backed, shared by every web process).
The rate is read from settings on every request rather than from DRF's class
attribute, which is frozen at import time, so `API_RATE_LIMIT` and test overrides
take effect.
"""

from __future__ import annotations

from rest_framework.settings import api_settings
from rest_framework.throttling import SimpleRateThrottle

from engagex.accounts.models import ApiKey


class ApiKeyRateThrottle(SimpleRateThrottle):
    scope = "api_key"

    def get_rate(self) -> str | None:
        return api_settings.DEFAULT_THROTTLE_RATES.get(self.scope)

    def get_cache_key(self, request, view) -> str | None:
        api_key = request.auth
        if not isinstance(api_key, ApiKey):
            return None  # anonymous requests are refused by the permission check anyway
        return self.cache_format % {"scope": self.scope, "ident": api_key.pk}

    def wait(self) -> float | None:
        # DRF omits Retry-After when the wait rounds to 0; always ask for at least 1 s.
        wait = super().wait()
        return None if wait is None else max(wait, 1.0)


class OrganizationRateThrottle(ApiKeyRateThrottle):
    """All of an organization's keys together: more keys must not mean more capacity."""

    scope = "organization"

    def get_cache_key(self, request, view) -> str | None:
        api_key = request.auth
        if not isinstance(api_key, ApiKey):
            return None
        return self.cache_format % {"scope": self.scope, "ident": api_key.organization_id}
