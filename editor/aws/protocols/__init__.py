"""The wire protocols, one generic implementation per family, each driven by botocore's service
models: `json` (JSON 1.0/1.1 with X-Amz-Target: Step Functions), `rest-json` (Lambda) and `query`
(IAM, STS) and `rest-xml` (S3).
"""

from editor.aws.protocols.base import Protocol
from editor.aws.protocols.json_rpc import JsonProtocol
from editor.aws.protocols.query import QueryProtocol
from editor.aws.protocols.rest_json import RestJsonProtocol
from editor.aws.protocols.rest_xml import RestXmlProtocol

PROTOCOLS: dict[str, Protocol] = {p.name: p for p in (JsonProtocol(), RestJsonProtocol(), QueryProtocol(),
                                                     RestXmlProtocol())}

__all__ = ["PROTOCOLS", "Protocol"]
