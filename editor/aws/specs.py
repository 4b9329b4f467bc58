"""botocore's service models (the JSON that boto3 ships) as the protocol layer reads them: loaded
once per process, with the lookups a request needs.

    spec = service_spec("lambda")
    spec.model                      -> botocore.model.ServiceModel
    spec.operation("Invoke")        -> botocore.model.OperationModel, or None
    spec.route("POST", "/2015-03-31/functions/f/invocations")
                                    -> (OperationModel, {"FunctionName": "f"}), or None (REST protocols)
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cached_property, lru_cache
from urllib.parse import unquote

from botocore.loaders import Loader
from botocore.model import OperationModel, ServiceModel


@lru_cache(maxsize=1)
def _loader() -> Loader:
    return Loader()


@dataclass(frozen=True)
class Route:
    """One REST operation's HTTP method and URI template, compiled to a regular expression over the
    raw (percent-encoded) path; `query` holds the template's fixed query keys (`?versions`)."""

    method: str
    pattern: re.Pattern
    labels: tuple[str, ...]
    query: tuple[str, ...]
    literal_length: int
    first_segment: str
    operation: OperationModel


def _compile(operation: OperationModel) -> Route:
    uri = operation.http.get("requestUri", "/")
    path, _, query = uri.partition("?")
    labels: list[str] = []
    parts: list[str] = []
    position = 0
    for match in re.finditer(r"\{([^}]+)\}", path):
        parts.append(re.escape(path[position:match.start()]))
        name = match.group(1)
        greedy = name.endswith("+")
        labels.append(name.rstrip("+"))
        parts.append(f"(?P<g{len(labels) - 1}>{'.+' if greedy else '[^/]+'})")
        position = match.end()
    parts.append(re.escape(path[position:].rstrip("/")) + "/?")   # clients differ on a trailing slash
    literal = re.sub(r"\{[^}]+\}", "", path)
    keys = tuple(k.split("=")[0] for k in query.split("&") if k)
    first = path.lstrip("/").split("/")[0]
    return Route(operation.http.get("method", "POST"), re.compile("".join(parts)), tuple(labels), keys,
                 len(literal), "" if "{" in first else first, operation)


class ServiceSpec:
    """One AWS service as botocore's model describes it."""

    def __init__(self, model_name: str):
        self.model = ServiceModel(_loader().load_service_model(model_name, "service-2"), service_name=model_name)
        self.protocol = self.model.protocol
        self.signing_name = self.model.signing_name
        self.target_prefix = self.model.metadata.get("targetPrefix")

    def operation(self, name: str) -> OperationModel | None:
        """Returns the operation called `name` (as AWS names it), or None."""
        if name not in self.model.operation_names:
            return None
        return self.model.operation_model(name)

    @cached_property
    def routes(self) -> list[Route]:
        """The REST operations, the most literal templates first (so `/functions/{Name}/policy`
        is tried before `/functions/{Name}/{Other}`)."""
        found = [_compile(self.model.operation_model(name)) for name in self.model.operation_names]
        return sorted(found, key=lambda r: (-r.literal_length, len(r.labels)))

    @cached_property
    def path_prefixes(self) -> frozenset[str]:
        """The first path segments of the REST operations' URIs (Lambda's "2015-03-31", ...)."""
        return frozenset(r.first_segment for r in self.routes if r.first_segment)

    def route(self, method: str, raw_path: str, query_keys=()) -> tuple[OperationModel, dict[str, str]] | None:
        """Returns the REST operation `method raw_path` calls and its path labels (decoded), or None."""
        keys = set(query_keys)
        for route in self.routes:
            if route.method != method or not set(route.query) <= keys:
                continue
            match = route.pattern.fullmatch(raw_path)
            if match:
                return route.operation, {label: unquote(match.group(f"g{i}")) for i, label in enumerate(route.labels)}
        return None


@lru_cache(maxsize=None)
def service_spec(model_name: str) -> ServiceSpec:
    """Returns the ServiceSpec of botocore's model `model_name` ("iam", "lambda", "stepfunctions")."""
    return ServiceSpec(model_name)
