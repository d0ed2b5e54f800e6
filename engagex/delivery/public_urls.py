from django.urls import path

from engagex.delivery import views

app_name = "delivery_public"
urlpatterns = [
    path("u/<str:token>/", views.unsubscribe, name="unsubscribe"),
    path("m/mail/<str:token>/", views.view_online, name="view_online"),
]
