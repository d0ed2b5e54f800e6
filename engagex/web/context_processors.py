from django.conf import settings

from engagex.web.navigation import nav_sections


def ui(request):
    return {
        "nav_sections": lambda: nav_sections(request.path, getattr(request, "membership", None)),
        "debug_tools": settings.DEBUG,
    }
