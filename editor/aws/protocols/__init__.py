"""The wire protocols, one generic implementation per family, each driven by botocore's service
models: `json` (JSON 1.0/1.1 with X-Amz-Target: Step Functions), `rest-json` (Lambda) and `query`
(IAM, STS). REST-XML (S3) will be one more module here and one more row in PROTOCOLS.
"""

from editor.aws.protocols.base import Protocol
from editor.aws.protocols.json_rpc import JsonProtocol
from editor.aws.protocols.query import QueryProtocol
from editor.aws.protocols.rest_json import RestJsonProtocol

PROTOCOLS: dict[str, Protocol] = {p.name: p for p in (JsonProtocol(), RestJsonProtocol(), QueryProtocol())}

__all__ = ["PROTOCOLS", "Protocol"]
