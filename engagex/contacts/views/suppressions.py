"""Views: suppressions."""

urlpatterns: list = []
