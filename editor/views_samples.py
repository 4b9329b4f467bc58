"""The Samples pages: the seed's apps (editor.samples.apps), whether you have each, and one page
per app that explains it, links its parts and loads it."""

from __future__ import annotations

from django.http import Http404
from django.shortcuts import render

from editor.errors import ApiError
from editor.samples.apps import all_apps
from editor.services.sample_apps import app_state, find_app


def sample_list(request):
    """Every sample app with its summary and whether you have loaded it (and its installs)."""
    apps = [{"app": app, **app_state(app, request.user)} for app in all_apps()]
    return render(request, "editor/sample_list.html", {"page": "samples", "apps": apps})


def sample_page(request, name):
    """One app: its explanation (app.template), its parts with links, Load this sample."""
    try:
        app = find_app(name)
    except ApiError:
        raise Http404("No such sample") from None
    state = app_state(app, request.user)
    return render(request, "editor/sample_app.html", {"page": "samples", "app": app, **state})
