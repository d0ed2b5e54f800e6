from django.urls import path

from engagex.content.views import public

app_name = "content_public"
urlpatterns = [
    path("view/<str:token>/", public.view_online, name="view_online"),
    path("sample-link/<slug:kind>/", public.sample_link, name="sample_link"),
]
