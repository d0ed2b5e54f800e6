from django.urls import path

from engagex.delivery import views

app_name = "delivery_public"
urlpatterns = [path("<str:token>/", views.unsubscribe, name="unsubscribe")]
