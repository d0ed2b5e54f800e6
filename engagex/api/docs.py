"""The public OpenAPI schema and interactive docs (Swagger UI) under /api/.

Swagger UI runs under the app's strict CSP unchanged: our template loads the sidecar
stylesheet and scripts as files and the init script from the split view's `?script`
URL, so there is no inline <style> or <script> to allow. (ReDoc is left out: it loads
its logo from a third-party CDN.)
"""

from __future__ import annotations

from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView
from rest_framework.permissions import AllowAny


class SchemaView(SpectacularAPIView):
    authentication_classes: list = []
    permission_classes = [AllowAny]
    throttle_classes: list = []


class SwaggerView(SpectacularSwaggerSplitView):
    authentication_classes: list = []
    permission_classes = [AllowAny]
    throttle_classes: list = []
    template_name = "api/swagger_ui.html"
    title = "EngageX API"
