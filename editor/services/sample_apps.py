"""The Samples pages' view of the seed's apps (editor.samples.apps): each app's state for one person
(loaded, partly loaded, packages installing) and loading one by its id."""

from __future__ import annotations

from django.db import IntegrityError

from editor.errors import ApiError
from editor.samples.apps import SampleApp, all_apps, app_named
from editor.services.samples import failed, installing

__all__ = ["app_state", "find_app", "load_app"]


def find_app(app_id) -> SampleApp:
    """Returns the app `app_id` names; 404 ResourceNotFound for any other."""
    app = app_named(app_id) if isinstance(app_id, str) else None
    if app is None:
        known = ", ".join(a.id for a in all_apps())
        raise ApiError("ResourceNotFound", f"There is no sample app {app_id!r} (the samples are: {known}).",
                       status=404, field="id")
    return app


def app_state(app: SampleApp, user) -> dict:
    """Returns {"resources", "loaded" (the user has every part), "partial" (some only),
    "missing" (the parts' names the user lacks), "installing" (its functions whose packages are
    still installing), "failed" (those whose packages failed to install, with nothing deployed)}."""
    resources = app.resources(user)
    missing = [r["name"] for r in resources if r.get("missing")]
    present = [r for r in resources if not r.get("missing")]
    return {"resources": resources, "loaded": bool(present) and not missing, "partial": bool(present) and bool(missing),
            "missing": missing, "installing": installing(user, app.functions) if app.functions else [],
            "failed": failed(user, app.functions) if app.functions else []}


def load_app(app_id, user) -> dict:
    """Loads the app `app_id` for `user` (only what they lack); returns {"app", "created", "installing"}."""
    app = find_app(app_id)
    try:
        created = app.load(user)
    except IntegrityError:   # another request (a second click) made the same part meanwhile
        raise ApiError("ResourceConflict", f"{app.title} is being loaded by another request: reload the page.",
                       status=409) from None
    return {"app": app.id, "created": created, "installing": installing(user, app.functions) if app.functions else []}
