import pytest
from django.test import Client

from engagex.accounts.services.api_keys import api_key_create


@pytest.fixture
def make_key(org, owner):
    """(ApiKey, secret) for `organization` (default: org) with the given scopes."""

    def make(*scopes: str, organization=None, name: str = "Test key"):
        return api_key_create(
            organization=organization or org,
            actor=owner,
            name=name,
            scopes=list(scopes) or ["read"],
        )

    return make


@pytest.fixture
def api():
    """A client that sends JSON and an Authorization header; no session."""

    class ApiClient:
        def __init__(self):
            self.client = Client()

        def request(self, method: str, path: str, key: str | None = None, *, auth=None, json=None):
            headers = {}
            if auth is not None:
                headers["Authorization"] = auth
            elif key is not None:
                headers["Authorization"] = f"Bearer {key}"
            call = getattr(self.client, method.lower())
            if json is not None:
                return call(path, data=json, content_type="application/json", headers=headers)
            return call(path, headers=headers)

        def get(self, path, key=None, **kwargs):
            return self.request("GET", path, key, **kwargs)

        def patch(self, path, key=None, **kwargs):
            return self.request("PATCH", path, key, **kwargs)

    return ApiClient()
