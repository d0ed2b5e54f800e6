from django.urls import path

from engagex.devmail import views

app_name = "devmail"
urlpatterns = [
    path("", views.inbox, name="inbox"),
    path("clear/", views.clear, name="clear"),
    path("<int:message_id>/", views.detail, name="detail"),
    path("<int:message_id>/html/", views.html_body, name="html"),
    path("<int:message_id>/delete/", views.delete, name="delete"),
]
