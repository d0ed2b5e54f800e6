"""Views: contacts."""

urlpatterns: list = []
