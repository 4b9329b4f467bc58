"""Runs daphne with Flowbench's WebSocket options. Takes daphne's own arguments:

    python -m flowbench.serve -b 127.0.0.1 -p 8000 flowbench.asgi:application

Daphne refuses a WebSocket message over its limit (1 MiB) the way autobahn does by default: it
drops the TCP connection (`failByDrop`), so a browser sees a broken connection and retries as if
the network had failed. With failByDrop off, autobahn sends a close frame with code 1009 (message
too big) and closes cleanly; protocol errors likewise close with their code. Daphne's command line
has no switch for it, so this server sets it on daphne's WebSocket factory once the reactor starts,
before any connection is accepted (each connection copies the factory's options when it is made).

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


class FlowbenchServer(Server):
    """Daphne's server, closing WebSockets with a close frame where autobahn would drop them."""

    def run(self):
        from twisted.internet import reactor   # daphne.server has installed the asyncio reactor

        reactor.callWhenRunning(self._set_protocol_options)
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
