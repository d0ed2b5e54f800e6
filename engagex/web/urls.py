from django.urls import path

from engagex.web import styleguide, views

app_name = "web"
urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("styleguide/", styleguide.styleguide, name="styleguide"),
    path("styleguide/demo/delete/", styleguide.demo_delete, name="styleguide-demo-delete"),
    path("styleguide/demo/save/", styleguide.demo_save, name="styleguide-demo-save"),
    path("styleguide/demo/job/", styleguide.demo_job_start, name="styleguide-demo-job-start"),
    path(
        "styleguide/demo/job/<uuid:job_id>/",
        styleguide.demo_job_progress,
        name="styleguide-demo-job",
    ),
]
