"""Public (signed-link, no login) pages of the contacts area: double opt-in confirmation."""

from engagex.contacts.views import optin

app_name = "contacts-public"
urlpatterns = [*optin.urlpatterns]
