from django.urls import path

from engagex.content.views import editor, library

app_name = "content"
urlpatterns = [
    path("", library.template_index, name="index"),
    path("new/", library.template_new, name="new"),
    path("create/", library.template_create, name="create"),
    path("presets/<slug:key>/preview/", library.preset_preview, name="preset-preview"),
    path("<uuid:pk>/", editor.template_edit, name="edit"),
    path("<uuid:pk>/preview/", editor.template_preview, name="preview"),
    path("<uuid:pk>/check/", editor.template_check, name="check"),
    path("<uuid:pk>/visual/", editor.template_visual, name="visual"),
    path("<uuid:pk>/duplicate/", library.template_duplicate, name="duplicate"),
    path("<uuid:pk>/delete/", library.template_delete, name="delete"),
    path("<uuid:pk>/versions/<int:number>/restore/", editor.template_restore, name="restore"),
    path("<uuid:pk>/test/", editor.template_test_send, name="test-send"),
]
