"""Placeholder: being built."""

urlpatterns: list = []
