"""Runs daphne with Flowbench's WebSocket options. Takes daphne's own arguments:

    python -m flowbench.serve -b 127.0.0.1 -p 8000 flowbench.asgi:application

Daphne refuses a WebSocket message over its limit (1 MiB) the way autobahn does by default: it
drops the TCP connection (`failByDrop`), so a browser sees a broken connection and retries as if
the network had failed. With failByDrop off, autobahn sends a close frame with code 1009 (message
too big) and closes cleanly; protocol errors likewise close with their code. Daphne's command line
has no switch for it, so this server sets it on daphne's WebSocket factory once the reactor starts,
before any connection is accepted (each connection copies the factory's options when it is made).
"""

from __future__ import annotations

from daphne.cli import CommandLineInterface
from daphne.server import Server


class FlowbenchServer(Server):
    """Daphne's server, closing WebSockets with a close frame where autobahn would drop them."""

    def run(self):
        from twisted.internet import reactor   # daphne.server has installed the asyncio reactor

        reactor.callWhenRunning(lambda: self.ws_factory.setProtocolOptions(failByDrop=False))
        super().run()


class FlowbenchCommandLine(CommandLineInterface):
    server_class = FlowbenchServer


if __name__ == "__main__":
    FlowbenchCommandLine.entrypoint()
