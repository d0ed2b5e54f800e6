"""OpenAPI: declares API key auth as HTTP bearer, so Swagger's "Authorize" button works."""

from __future__ import annotations

from drf_spectacular.extensions import OpenApiAuthenticationExtension


class ApiKeyAuthenticationScheme(OpenApiAuthenticationExtension):
    target_class = "engagex.api.authentication.ApiKeyAuthentication"
    name = "ApiKeyAuth"

    def get_security_definition(self, auto_schema):
        return {
            "type": "http",
            "scheme": "bearer",
            "bearerFormat": "API key",
            "description": "An API key from Settings → API keys, e.g. "
            "`Authorization: Bearer ex_ab12cd34_…`. Keys have scopes: `read` for GET, "
            "`write` for changes, `send` for sending.",
        }
