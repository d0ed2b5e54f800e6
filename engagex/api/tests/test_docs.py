"""The OpenAPI schema and the interactive docs are public and complete."""

import re

import pytest
import yaml
from django.test import Client
from drf_spectacular.validation import validate_schema


@pytest.fixture
def schema(db):
    response = Client().get("/api/schema/")
    assert response.status_code == 200
    return yaml.safe_load(response.content)


def test_schema_is_a_valid_openapi_3_document(schema):
    assert schema["openapi"].startswith("3.")
    validate_schema(schema)  # raises on any violation of the OpenAPI 3 JSON schema


def test_schema_is_also_served_as_json(db):
    response = Client().get("/api/schema/?format=json")
    assert response.status_code == 200
    assert response.json()["info"]["title"] == "EngageX API"


def test_schema_lists_me_with_bearer_security(schema):
    assert "/api/v1/me" in schema["paths"]
    assert "/api/v1/organization" in schema["paths"]
    scheme = schema["components"]["securitySchemes"]["ApiKeyAuth"]
    assert scheme["type"] == "http"
    assert scheme["scheme"] == "bearer"
    assert schema["paths"]["/api/v1/me"]["get"]["security"] == [{"ApiKeyAuth": []}]
    assert "patch" in schema["paths"]["/api/v1/organization"]


def test_schema_needs_no_key_even_with_a_bad_one(db):
    response = Client().get("/api/schema/", headers={"Authorization": "Bearer nope"})
    assert response.status_code == 200


def _assets(html: str) -> list[str]:
    return re.findall(r'(?:src|href)="([^"]+)"', html)


def test_docs_page_and_its_assets_load(db):
    client = Client()
    response = client.get("/api/docs/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "<style" not in html
    assert "<script>" not in html  # every script is a file (CSP: script-src 'self')
    assert "unsafe-inline" not in response["Content-Security-Policy"]  # the app's strict CSP
    assets = _assets(html)
    assert assets
    for url in assets:
        asset = client.get(url)
        assert asset.status_code == 200, url
        body = b"".join(asset.streaming_content) if asset.streaming else asset.content
        assert body, url


def test_swagger_init_script_points_at_the_schema(db):
    response = Client().get("/api/docs/?script=")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/javascript")
    assert "/api/schema/" in response.content.decode()
