from django.urls import path

from engagex.tracking import views

app_name = "tracking"
urlpatterns = [
    path("t/o/<str:token>", views.open_pixel, name="open"),
    path("t/c/<str:token>", views.click, name="click"),
]
