"""Helpers shared by the function runner's tests: specs from source text, unique names."""

import os

from runtime.functions import FunctionSpec


def python_function(source: str, name: str = "py-fn", **config) -> FunctionSpec:
    """Returns a Python FunctionSpec with `source` as handler.py (handler `handler.handler`)."""
    config.setdefault("handler", "handler.handler")
    files = config.pop("files", {})
    return FunctionSpec(name=name, runtime="python", files={"handler.py": source, **files},
                        **config)


def node_function(source: str, name: str = "js-fn", file: str = "index.js",
                  **config) -> FunctionSpec:
    """Returns a Node.js FunctionSpec with `source` as `file` (handler `index.handler`)."""
    config.setdefault("handler", "index.handler")
    files = config.pop("files", {})
    return FunctionSpec(name=name, runtime="nodejs", files={file: source, **files}, **config)


def unique(name: str) -> str:
    """Returns a function name no other test uses, so warm workers are never shared by
    accident."""
    unique.counter += 1
    return f"{name}-{os.getpid()}-{unique.counter}"


unique.counter = 0
