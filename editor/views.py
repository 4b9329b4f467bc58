"""Server-rendered pages. Each loads its data through the JSON API from one ES module."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth import login
from django.contrib.auth.forms import AuthenticationForm
from django.contrib.auth.decorators import login_not_required
from django.contrib.auth.views import LoginView
from django.http import Http404
from django.shortcuts import redirect, render
from django.templatetags.static import static
from django.views.decorators.cache import never_cache

from editor import services
from editor.errors import ApiError


class SignInView(LoginView):
    template_name = "editor/login.html"
    redirect_authenticated_user = True


def signin_locked(request, response=None, credentials=None):
    """The sign-in page, refusing (429) a username that failed too often from this address: what
    django-axes answers once the limit is reached, the right password included."""
    minutes = int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)
    username = (credentials or {}).get("username") or request.POST.get("username", "")
    form = AuthenticationForm(request, initial={"username": username})
    return render(request, "editor/login.html", {
        "form": form, "next": request.POST.get("next", ""),
        "locked": f"Too many failed sign-ins for this username from your address: try again in {minutes} "
                  "minutes, or use a one-time sign-in link (manage.py prepare prints one)."}, status=429)


@login_not_required
@never_cache
def signin_link(request, token):
    """Signs in with a one-time link from `manage.py prepare`; a used or expired link says so."""
    user = services.use_signin_link(token)
    if user is None:
        return render(request, "editor/login_link_invalid.html", status=403)
    login(request, user, backend="django.contrib.auth.backends.ModelBackend")
    return redirect("function-list")


@login_not_required
def favicon(request):
    """Answers /favicon.ico, which browsers ask for on every page: a lasting redirect to the icon."""
    return redirect(static("favicon.svg"), permanent=True)


def function_list(request):
    return render(request, "editor/function_list.html", {"page": "functions"})


def function_create(request):
    return render(request, "editor/function_create.html", {"page": "functions"})


def function_page(request, name):
    try:
        function = services.get_function(request.user, name)
    except ApiError:
        raise Http404("Function not found") from None
    from editor.services.runner import sandbox_backend

    from editor.services.accounts import function_arn

    return render(request, "editor/function.html",
                  {"page": "functions", "function": function, "sandbox": sandbox_backend(),
                   "function_arn": function_arn(request.user, function.name)})


def security_credentials(request):
    """The person's AWS account id and access keys (as IAM's console shows them)."""
    return render(request, "editor/security_credentials.html", {"page": "credentials"})


def csrf_failure(request, reason=""):
    """The CSRF refusal: the API's error shape under /api/, Django's page elsewhere."""
    if request.path.startswith("/api/"):
        from editor.errors import error_response

        return error_response(ApiError("CsrfFailed", "CSRF check failed: reload the page and try again.",
                                       status=403))
    from django.views.csrf import csrf_failure as default

    return default(request, reason)


def schedule_list(request):
    """The Schedules page: each schedule's expression, state, next runs, target and last fires;
    create, edit, enable/disable and delete them."""
    return render(request, "editor/schedule_list.html", {"page": "schedules"})


def bucket_list(request):
    """The Buckets page: the user's buckets, with their sizes; create and delete."""
    return render(request, "editor/bucket_list.html", {"page": "buckets"})


def bucket_page(request, name):
    """One bucket: browse it by folder, upload by drag and drop, preview, download, delete; its
    notifications with their last deliveries."""
    from editor.services.buckets import owned_bucket

    try:
        bucket = owned_bucket(request.user, name)
    except ApiError:
        raise Http404("No such bucket") from None
    return render(request, "editor/bucket.html", {"page": "buckets", "bucket": bucket})


def http_api_list(request):
    """The HTTP APIs page: each API's invoke URLs, routes (to functions and state machines),
    integrations, stages with their deployments and recent requests; quick create, add a route, delete."""
    return render(request, "editor/http_api_list.html", {"page": "http-apis"})


def websocket_api_list(request):
    """The WebSocket APIs page: each API's routes, live connections and recent messages."""
    return render(request, "editor/websocket_api_list.html", {"page": "websocket-apis"})


def layer_list(request):
    """The Layers page: each layer's versions, the functions using them, upload and delete."""
    return render(request, "editor/layer_list.html", {"page": "layers"})
