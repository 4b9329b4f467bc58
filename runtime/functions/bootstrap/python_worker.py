"""Flowbench's Python worker: loads one Lambda handler, then runs invocations until stopped.

Runs inside the sandbox under the system Python with the standard library only. The protocol
travels on its own pipes, a request pipe and a response pipe, so nothing user code
prints on stdout/stderr (the log pipe) can pass for a protocol message.

The two fd numbers come as arguments: `python_worker.py REQUEST_FD RESPONSE_FD [standby]`.
A standby worker is started before its function is known: it says ready (I) once the interpreter
and this module are loaded, then takes one frame {"env": the function's environment} (its code is
in LAMBDA_TASK_ROOT by then), becomes that function's worker and answers I or F as a worker
started for it does.
Frames out: one kind byte, a 4-byte big-endian length, the body.
  I  ready (handler loaded)          F  init failed: error object, then the worker exits
  R  response: JSON text             B  response: raw bytes the handler returned
  E  error object (JSON)             M  out of memory: error object, then the worker exits
  D  error object, then the worker exits (Node.js only: an uncaught exception)
Frames in: a 4-byte length and a JSON object {"id", "deadline" (epoch ms), "arn", "client_context"
(Invoke's ClientContext or null), "event"}.
"""

import importlib
import json
import os
import struct
import sys
import time
import traceback

REQUESTS, RESPONSES = int(sys.argv[1]), int(sys.argv[2])
MAX_RESPONSE = 6291556
WORKER_PID = os.getpid()


# The function's own fields of every context, read from the environment once it is the function's
# (see read_identity), as Lambda's runtime reads them when it starts.
IDENTITY = {}


def read_identity():
    env = os.environ
    IDENTITY.update(function_name=env.get("AWS_LAMBDA_FUNCTION_NAME"),
                    function_version=env.get("AWS_LAMBDA_FUNCTION_VERSION"),
                    memory_limit_in_mb=env.get("AWS_LAMBDA_FUNCTION_MEMORY_SIZE"),
                    log_group_name=env.get("AWS_LAMBDA_LOG_GROUP_NAME"),
                    log_stream_name=env.get("AWS_LAMBDA_LOG_STREAM_NAME"))


class LambdaContext:
    """The context object Lambda's Python runtime passes to a handler."""

    def __init__(self, request_id, deadline_ms, arn, client_context=None):
        self.aws_request_id = request_id
        self.invoked_function_arn = arn
        self.__dict__.update(IDENTITY)
        self.identity = None
        self.client_context = None if client_context is None else ClientContext(client_context)
        self.tenant_id = None
        self._deadline_ms = deadline_ms

    def get_remaining_time_in_millis(self):
        """Returns the milliseconds left before the invocation times out."""
        return max(int(self._deadline_ms - time.time() * 1000), 0)


class ClientContext:
    """What a mobile SDK's caller said of itself (Invoke's ClientContext), as Lambda's Python
    runtime gives it: `client` (installation_id, app_title, app_version_name, app_version_code,
    app_package_name), `custom` and `env`."""

    def __init__(self, given):
        given = given if isinstance(given, dict) else {}
        client = given.get("client")
        self.client = None if not isinstance(client, dict) else type("Client", (), {
            key: client.get(key) for key in ("installation_id", "app_title", "app_version_name",
                                             "app_version_code", "app_package_name")})()
        self.custom = given.get("custom")
        self.env = given.get("env")


def send(kind, body):
    data = kind + struct.pack(">I", len(body)) + body
    view = memoryview(data)
    while view:
        view = view[os.write(RESPONSES, view):]


def error_object(exc):
    """Returns Lambda's error object for `exc`; the trace shows the user's frames only."""
    frames = [frame for frame in traceback.extract_tb(exc.__traceback__)
              if frame.filename not in (__file__, importlib.__file__)
              and not frame.filename.startswith("<frozen ")]
    return {"errorMessage": str(exc), "errorType": type(exc).__name__,
            "stackTrace": traceback.format_list(frames)}


def load_handler(handler_name):
    """Returns the handler callable, or raises LoadError with the runtime's error object."""
    try:
        module_name, function_name = handler_name.rsplit(".", 1)
    except ValueError as exc:
        raise LoadError("Runtime.MalformedHandlerName", f"Bad handler '{handler_name}': {exc}")
    module_name = module_name.replace("/", ".")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise LoadError("Runtime.ImportModuleError",
                        f"Unable to import module '{module_name}': {exc}")
    except SyntaxError as exc:
        raise LoadError("Runtime.UserCodeSyntaxError",
                        f"Syntax error in module '{module_name}': {exc}",
                        [f'  File "{exc.filename}" Line {exc.lineno}\n    {exc.text or ""}'])
    except Exception as exc:  # the module's own code failed while it was imported
        error = error_object(exc)
        raise LoadError(error["errorType"], error["errorMessage"], error["stackTrace"])
    handler = getattr(module, function_name, None)
    if handler is None:
        raise LoadError("Runtime.HandlerNotFound",
                        f"Handler '{function_name}' missing on module '{module_name}'")
    return handler


class LoadError(Exception):
    def __init__(self, error_type, message, trace=()):
        super().__init__(message)
        self.error = {"errorMessage": message, "errorType": error_type,
                      "stackTrace": list(trace)}


def read_exact(stream, size):
    data = stream.read(size)
    if len(data) != size:
        sys.exit(0)  # the host closed the request pipe: stop quietly
    return data


def leave_if_forked():
    """A child forked by user code that returns into this loop must not answer for the worker:
    it has no protocol pipes (closed at fork), so it exits here."""
    if os.getpid() != WORKER_PID:
        os._exit(0)


def forget_protocol():
    for fd in (REQUESTS, RESPONSES):
        try:
            os.close(fd)
        except OSError:
            pass


def run(handler, requests):
    while True:
        (size,) = struct.unpack(">I", read_exact(requests, 4))
        request = json.loads(read_exact(requests, size))
        context = LambdaContext(request["id"], request["deadline"], request["arn"], request.get("client_context"))
        try:
            result = handler(request["event"], context)
        except MemoryError:
            leave_if_forked()
            send(b"M", b"{}")
            os._exit(137)
        except Exception as exc:
            leave_if_forked()
            send(b"E", json.dumps(error_object(exc)).encode())
            continue
        leave_if_forked()
        if isinstance(result, (bytes, bytearray)):
            kind, body = b"B", bytes(result)
        else:
            try:
                kind, body = b"R", json.dumps(result).encode()
            except (TypeError, ValueError) as exc:
                send(b"E", json.dumps({"errorMessage": f"Unable to marshal response: {exc}",
                                       "errorType": "Runtime.MarshalError",
                                       "stackTrace": []}).encode())
                continue
        if len(body) > MAX_RESPONSE:
            send(b"E", json.dumps({
                "errorMessage": f"Response payload size ({len(body)} bytes) exceeded maximum "
                                f"allowed payload size ({MAX_RESPONSE} bytes).",
                "errorType": "Function.ResponseSizeTooLarge", "stackTrace": []}).encode())
        else:
            send(kind, body)


def bridge_api(path, port):
    """Relays connections to 127.0.0.1:`port` (the sandbox's own loopback) to the unix socket
    `path`, the host's way to Flowbench's API when the function's network is off (api_relay.py,
    loaded from this worker's own folder)."""
    import importlib.util

    here = os.path.dirname(os.path.abspath(__file__))
    spec = importlib.util.spec_from_file_location("flowbench_api_relay", os.path.join(here, "api_relay.py"))
    relay = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(relay)
    relay.relay_api(path, port)


def take_function(requests):
    """Waits, as a standby worker, for the function it is to run: its environment replaces the
    one the worker started with (time zone included), as if it had been started with it."""
    send(b"I", b"")
    (size,) = struct.unpack(">I", read_exact(requests, 4))
    env = json.loads(read_exact(requests, size))["env"]
    pwd = os.environ.get("PWD")   # what the sandbox itself set (bubblewrap's --chdir)
    os.environ.clear()
    os.environ.update(env, **({"PWD": pwd} if pwd else {}))
    time.tzset()
    os.chdir(env["LAMBDA_TASK_ROOT"])


def main():
    # Forked children keep these pipes, exec'd programs must not.
    os.set_inheritable(REQUESTS, False)
    os.set_inheritable(RESPONSES, False)
    os.register_at_fork(after_in_child=forget_protocol)
    requests = os.fdopen(REQUESTS, "rb", buffering=65536)
    if sys.argv[3:] == ["standby"]:
        take_function(requests)
    read_identity()
    task_root = os.environ["LAMBDA_TASK_ROOT"]
    sys.path.insert(0, task_root)
    # After the code, as on Lambda: the layers' python folders, then requirements.txt's package.
    after_code = []
    layers = os.environ.get("LAMBDA_LAYERS_ROOT")
    if layers:
        after_code += [os.path.join(layers, "python", "lib", "python%d.%d" % sys.version_info[:2],
                                    "site-packages"), os.path.join(layers, "python")]
    packages = os.environ.get("LAMBDA_PACKAGES_ROOT")
    if packages:
        after_code.append(os.path.join(packages, "python"))
    sys.path[1:1] = after_code
    if os.environ.get("FLOWBENCH_API_SOCKET"):   # network off: the API alone, through the host
        bridge_api(os.environ.pop("FLOWBENCH_API_SOCKET"), int(os.environ.pop("FLOWBENCH_API_PORT")))
    if os.environ.get("FLOWBENCH_SDK_DIR"):   # boto3, as AWS's runtime has it: after the code
        sys.path.append(os.environ["FLOWBENCH_SDK_DIR"])
    try:
        handler = load_handler(os.environ["_HANDLER"])
    except LoadError as exc:
        send(b"F", json.dumps(exc.error).encode())
        return
    except MemoryError:
        send(b"M", b"{}")
        os._exit(137)
    send(b"I", b"")
    run(handler, requests)


if __name__ == "__main__":
    main()
