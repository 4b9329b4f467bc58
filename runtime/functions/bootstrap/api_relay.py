"""The sandbox's side of the way to Flowbench's API when a function's network is off.

    relay_api(socket_path, port)   # serves 127.0.0.1:port in a thread, returns at once

Every connection made to 127.0.0.1:`port` (the sandbox's own loopback) is relayed to the unix
socket `socket_path`, which the host bound into the sandbox and relays to the API alone
(runtime/functions/api_bridge.py). The Python worker and the custom runtimes' worker
(runtime_api.py) load this file by its path, before any function code can shadow it; the Ruby
and Node.js workers hold the same relay in their own language; the host's end
(runtime/functions/api_bridge.py) copies bytes with the same `pump`. Standard library only.
"""

import socket
import threading


def pump(source, target):
    """Copies bytes from `source` to `target` until `source` ends, then ends `target`'s writing."""
    try:
        while True:
            data = source.recv(65536)
            if not data:
                break
            target.sendall(data)
    except OSError:
        pass
    finally:
        try:
            target.shutdown(socket.SHUT_WR)
        except OSError:
            pass


def relay_api(socket_path, port):
    listener = socket.socket()
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", port))
    listener.listen(16)

    def serve():
        while True:
            client, _ = listener.accept()
            upstream = socket.socket(socket.AF_UNIX)
            try:
                upstream.connect(socket_path)
            except OSError:
                client.close()
                continue
            for pair in ((client, upstream), (upstream, client)):
                threading.Thread(target=pump, args=pair, daemon=True).start()

    threading.Thread(target=serve, name="flowbench-api-relay", daemon=True).start()

