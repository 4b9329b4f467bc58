"""The ASGI application: HTTP through Django (and /static/ in local mode), WebSockets through Channels."""

import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "flowbench.settings")

import django  # noqa: E402

django.setup(set_prefix=False)

from flowbench.http import StudioHandler  # noqa: E402

django_asgi = StudioHandler()

from channels.auth import AuthMiddlewareStack  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from channels.security.websocket import AllowedHostsOriginValidator  # noqa: E402
from django.conf import settings  # noqa: E402

from editor.routing import websocket_urlpatterns  # noqa: E402
from flowbench import lifecycle  # noqa: E402

http_app = django_asgi
if settings.FLOWBENCH_SERVE_STATIC:
    from django.contrib.staticfiles.handlers import ASGIStaticFilesHandler
    from django.core.exceptions import SuspiciousFileOperation
    from django.http import Http404

    class StaticFilesHandler(ASGIStaticFilesHandler):
        """Django's static handler, answering 404 to a path that leads out of the static folders
        (/static/%2e%2e/x): Django's finders refuse it with SuspiciousFileOperation, which this
        handler, unlike a view, would turn into a 500."""

        def serve(self, request):
            try:
                return super().serve(request)
            except SuspiciousFileOperation:
                raise Http404("No such static file.") from None

    http_app = StaticFilesHandler(django_asgi)

# Function URLs (editor.triggers) are answered before Django: the function's response is sent as it is.
from editor.triggers.asgi import HttpTriggers  # noqa: E402
from editor.triggers.websocket_door import WebSocketApis  # noqa: E402

http_app = HttpTriggers(http_app)

# A server that runs this application resumes the executions a previous process left RUNNING as
# it starts, and hands its own back when it is stopped (flowbench.lifecycle).
application = lifecycle.attach(ProtocolTypeRouter({
    "http": http_app,
    # A WebSocket API's clients come from any origin and sign in nowhere (editor.triggers.websocket_door).
    "websocket": WebSocketApis(AllowedHostsOriginValidator(AuthMiddlewareStack(URLRouter(websocket_urlpatterns)))),
}))
