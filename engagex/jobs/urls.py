from django.urls import path

from engagex.jobs import views

app_name = "jobs"
urlpatterns = [
    path("<uuid:job_id>/", views.job_detail, name="detail"),
    path("<uuid:job_id>/result/", views.job_result, name="result"),
]
