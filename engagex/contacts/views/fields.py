"""Views: fields."""

urlpatterns: list = []
