"""Views: optin."""

urlpatterns: list = []
