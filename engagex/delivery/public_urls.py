from django.urls import path

from engagex.delivery import views
from engagex.tracking import public_views

app_name = "delivery_public"
urlpatterns = [
    path("u/<str:token>/", views.unsubscribe, name="unsubscribe"),
    path("u/<str:token>/resubscribe/", views.resubscribe, name="resubscribe"),
    path("p/<str:token>/", public_views.preferences, name="preferences"),
    path("m/mail/<str:token>/", views.view_online, name="view_online"),
]
