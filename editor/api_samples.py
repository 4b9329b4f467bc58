"""The studio's JSON API for the sample apps: load one (what you lack of it)."""

from __future__ import annotations

from django.http import JsonResponse

from editor.api import api
from editor.services.sample_apps import load_app


@api("POST")
def sample_load(request, name):
    """Loads the sample app `name` for you; 201 with the names it created (an empty list when you
    had it all), 404 for an unknown app."""
    return JsonResponse(load_app(name, request.user), status=201)
