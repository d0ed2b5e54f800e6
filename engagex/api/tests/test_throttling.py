"""Rate limits: 429 with Retry-After, counted per key and per organization."""

import pytest
from django.core.cache import cache


@pytest.fixture
def tiny_rate(settings):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"api_key": "3/min"},
    }
    cache.clear()
    yield
    cache.clear()


def test_a_key_over_its_rate_gets_429_with_retry_after(api, make_key, tiny_rate):
    _, secret = make_key("read")
    for _ in range(3):
        assert api.get("/api/v1/me", secret).status_code == 200
    response = api.get("/api/v1/me", secret)
    assert response.status_code == 429
    assert "throttled" in response.json()["detail"].lower()
    retry_after = int(response["Retry-After"])
    assert 0 < retry_after <= 60


def test_each_key_has_its_own_budget(api, make_key, tiny_rate):
    _, first = make_key("read", name="First")
    _, second = make_key("read", name="Second")
    for _ in range(3):
        api.get("/api/v1/me", first)
    assert api.get("/api/v1/me", first).status_code == 429
    assert api.get("/api/v1/me", second).status_code == 200


def test_the_default_rate_comes_from_settings(settings):
    from engagex.api.throttling import ApiKeyRateThrottle

    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"api_key": "7/hour"},
    }
    assert ApiKeyRateThrottle().num_requests == 7
    assert ApiKeyRateThrottle().duration == 3600


def test_an_organizations_keys_share_the_organization_budget(api, make_key, settings):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"api_key": "100/min", "organization": "4/min"},
    }
    cache.clear()
    _, first = make_key("read", name="First")
    _, second = make_key("read", name="Second")
    for _ in range(2):
        assert api.get("/api/v1/me", first).status_code == 200
        assert api.get("/api/v1/me", second).status_code == 200
    response = api.get("/api/v1/me", second)
    assert response.status_code == 429
    assert int(response["Retry-After"]) > 0
    cache.clear()
