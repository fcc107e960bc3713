"""The bench's own routes beside DOT's: a protected read, an empty floor, a readiness probe."""

import os

from django.http import HttpRequest, HttpResponse, JsonResponse
from oauth2_provider.decorators import protected_resource


@protected_resource()
def me(request: HttpRequest) -> JsonResponse:
    """A read behind DOT's bearer-token check (token looked up in the database per request)."""
    return JsonResponse({"ok": True})


def floor(request: HttpRequest) -> HttpResponse:
    """The empty route: Django and gunicorn with nothing of DOT."""
    return HttpResponse(b"")


def ready(request: HttpRequest) -> HttpResponse:
    """Which worker answered, so the bench can wait until every worker serves."""
    return HttpResponse(str(os.getpid()).encode())
