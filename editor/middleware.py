"""Sign-in required on every page and API call; the API answers 401 JSON instead of redirecting."""

from django.contrib.auth.middleware import LoginRequiredMiddleware

from editor.errors import ApiError, error_response


class LoginRequiredEverywhere(LoginRequiredMiddleware):
    """Django's LoginRequiredMiddleware, with the API's error shape for /api/ requests."""

    def handle_no_permission(self, request, view_func):
        if request.path.startswith("/api/"):
            return error_response(ApiError("NotSignedIn", "Sign in to use the API.", status=401))
        return super().handle_no_permission(request, view_func)
