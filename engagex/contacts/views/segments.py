"""Views: segments."""

urlpatterns: list = []
