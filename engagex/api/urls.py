from django.urls import include, path

from engagex.api import docs, views

app_name = "api"
urlpatterns = [
    path("v1/me", views.MeView.as_view(), name="me"),
    path("v1/organization", views.OrganizationView.as_view(), name="organization"),
    path("v1/", include("engagex.contacts.api.urls")),
    path("v1/", include("engagex.content.api.urls")),
    path("v1/", include("engagex.campaigns.api.urls")),
    path("v1/", include("engagex.tracking.api.urls")),
    path("schema/", docs.SchemaView.as_view(), name="schema"),
    path("docs/", docs.SwaggerView.as_view(url_name="api:schema"), name="docs"),
]
