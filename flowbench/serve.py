"""Runs daphne with Flowbench's WebSocket options. Takes daphne's own arguments:

    python -m flowbench.serve -b 127.0.0.1 -p 8000 flowbench.asgi:application

Daphne refuses a WebSocket message over its limit (1 MiB) the way autobahn does by default: it
drops the TCP connection (`failByDrop`), so a browser sees a broken connection and retries as if
the network had failed. With failByDrop off, autobahn sends a close frame with code 1009 (message
too big) and closes cleanly; protocol errors likewise close with their code. Daphne's command line
has no switch for it, so this server sets it on daphne's WebSocket factory once the reactor starts,
before any connection is accepted (each connection copies the factory's options when it is made).

Twisted writes response header names in Title-Case; S3's user metadata travels in header names
(`x-amz-meta-<name>`), and SDKs hand the rest of the name to their callers as it came, so those
names are written in lower case, as S3 writes them (a client reading `Metadata["colour"]` finds it).

A WebSocket API's connection takes messages of 128 KB at most, as API Gateway's do: its
connection's own limit is lowered as it opens, so a larger message is refused with 1009 too
(an ASGI application cannot send that code itself: autobahn refuses it from the application).
Its handshake may take as long as its `$connect` function: 30 s unless --websocket_connect_timeout says.
"""

from __future__ import annotations

from daphne.cli import CommandLineInterface
from daphne.server import Server
from daphne.ws_protocol import WebSocketProtocol


class FlowbenchWebSocketProtocol(WebSocketProtocol):
    """Daphne's WebSocket protocol, with API Gateway's message limit on a WebSocket API's connections."""

    def onConnect(self, request):
        from editor.services.websocket_apis import MESSAGE_LIMIT
        from editor.triggers.websocket_apis import match

        if match(request.headers.get("host", ""), request.path) is not None:
            self.maxMessagePayloadSize = MESSAGE_LIMIT
        return super().onConnect(request)


def keep_metadata_names_lowercase() -> None:
    """Makes Twisted write `x-amz-meta-*` header names as they are (lower case). Twisted's name
    encoder looks a name up in its cache before title-casing it; the cache answers those names."""
    from twisted.web import http_headers

    encoder = http_headers._nameEncoder

    class Cache(dict):
        def get(self, name, default=None):
            found = super().get(name)
            if found is not None:
                return found
            raw = name.encode("iso-8859-1", "replace") if isinstance(name, str) else name
            if raw[:11].lower() == b"x-amz-meta-" and http_headers._istoken(raw):
                return raw.lower()
            return default

    if type(encoder._canonicalHeaderCache) is dict:   # once per process
        encoder._canonicalHeaderCache = Cache(encoder._canonicalHeaderCache)


class FlowbenchServer(Server):
    """Daphne's server, closing WebSockets with a close frame where autobahn would drop them."""

    def run(self):
        from twisted.internet import reactor   # daphne.server has installed the asyncio reactor

        reactor.callWhenRunning(self._set_protocol_options)
        keep_metadata_names_lowercase()
        super().run()


    def _set_protocol_options(self):
        self.ws_factory.setProtocolOptions(failByDrop=False)
        self.ws_factory.protocol = FlowbenchWebSocketProtocol


class FlowbenchCommandLine(CommandLineInterface):
    server_class = FlowbenchServer

    def __init__(self):
        super().__init__()
        # A WebSocket API's handshake waits for its $connect function, which API Gateway gives 29 s
        # (daphne's own default, 5 s, is shorter than a function's cold start on a busy machine).
        self.parser.set_defaults(websocket_connect_timeout=30)


if __name__ == "__main__":
    FlowbenchCommandLine.entrypoint()
