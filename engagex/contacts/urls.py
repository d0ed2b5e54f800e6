"""URLs of the contacts area. Each page group keeps its routes next to its views."""

from engagex.contacts.views import contacts, exports, fields, imports, lists, segments, suppressions

app_name = "contacts"
urlpatterns = [
    *contacts.urlpatterns,
    *fields.urlpatterns,
    *imports.urlpatterns,
    *exports.urlpatterns,
    *lists.urlpatterns,
    *segments.urlpatterns,
    *suppressions.urlpatterns,
]
