from django.urls import path

from engagex.audit import views

app_name = "audit"
urlpatterns = [path("", views.entry_list, name="log")]
