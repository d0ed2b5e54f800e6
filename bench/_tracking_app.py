"""Benchmark-only WSGI application for `bench.tracking`: EngageX's own application
(`engagex.wsgi`, same settings, same middleware) with one extra URL, `/bench/noop`, a
trivial view answering a tiny response — the reference the tracking endpoints are
compared with. The bench starts the server with `bench._tracking_app:application`;
the product's URLs (`engagex.urls`) never contain it.

This module is also the URLconf of that application (ROOT_URLCONF points here): the
product's URL patterns with the no-op one placed just before the tracking ones, so
resolving either walks the same patterns.

With BENCH_PROFILE_DIR set, each worker profiles every request with cProfile and
writes its statistics there when it exits (`bench.tracking --profile DIR`).
"""

from __future__ import annotations

import atexit
import cProfile
import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "engagex.settings")
_product = get_wsgi_application()

from django.conf import settings  # noqa: E402  (after Django is set up)
from django.http import HttpResponse  # noqa: E402
from django.urls import path  # noqa: E402

from engagex import urls as product_urls  # noqa: E402
from engagex.tracking import urls as tracking_urls  # noqa: E402


def noop(request):
    return HttpResponse(b"ok", content_type="text/plain")


def _with_noop(patterns: list) -> list:
    noop_pattern = path("bench/noop", noop, name="bench-noop")
    for position, pattern in enumerate(patterns):
        if getattr(pattern, "urlconf_name", None) is tracking_urls or (
            getattr(pattern, "urlconf_module", None) is tracking_urls
        ):
            return [*patterns[:position], noop_pattern, *patterns[position:]]
    return [*patterns, noop_pattern]


urlpatterns = _with_noop(list(product_urls.urlpatterns))
handler400 = product_urls.handler400
handler403 = product_urls.handler403
handler404 = product_urls.handler404
handler500 = product_urls.handler500
settings.ROOT_URLCONF = __name__


def _profiled(app, directory: str):
    profile = cProfile.Profile()

    def application(environ, start_response):
        profile.enable()
        try:
            return app(environ, start_response)
        finally:
            profile.disable()

    atexit.register(lambda: profile.dump_stats(os.path.join(directory, f"{os.getpid()}.prof")))
    return application


application = (
    _profiled(_product, os.environ["BENCH_PROFILE_DIR"])
    if os.environ.get("BENCH_PROFILE_DIR")
    else _product
)
