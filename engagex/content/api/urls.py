"""Templates API routes, mounted under /api/v1/ by `engagex.api.urls`."""

from django.urls import path

from engagex.content.api import views

urlpatterns = [
    path("templates", views.TemplateCollectionView.as_view(), name="templates"),
    path("templates/presets", views.PresetCollectionView.as_view(), name="template-presets"),
    path("templates/<uuid:template_id>", views.TemplateDetailView.as_view(), name="template"),
    path(
        "templates/<uuid:template_id>/versions",
        views.VersionCollectionView.as_view(),
        name="template-versions",
    ),
    path(
        "templates/<uuid:template_id>/versions/<int:number>",
        views.VersionDetailView.as_view(),
        name="template-version",
    ),
    path(
        "templates/<uuid:template_id>/versions/<int:number>/restore",
        views.VersionRestoreView.as_view(),
        name="template-version-restore",
    ),
    path(
        "templates/<uuid:template_id>/render",
        views.TemplateRenderView.as_view(),
        name="template-render",
    ),
    path(
        "templates/<uuid:template_id>/test",
        views.TemplateTestSendView.as_view(),
        name="template-test-send",
    ),
]
