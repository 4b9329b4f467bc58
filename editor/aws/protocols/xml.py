"""Writing a value as the XML its botocore shape says, shared by the XML protocols (Query, REST-XML):
members under their wire names, lists wrapped (`<Tags><member>..`) or flattened (`<Contents>..`
repeated), timestamps in ISO 8601, blobs in base64, text escaped."""

from __future__ import annotations

import base64
from typing import Any
from xml.sax.saxutils import escape

from botocore.model import Shape

from editor.aws.protocols.base import timestamp

__all__ = ["xml_of", "xml_element"]


def xml_of(shape: Shape, value: Any) -> str:
    """Returns the XML of `value` written as `shape` (without the element around it)."""
    kind = shape.type_name
    if kind == "structure":
        return "".join(xml_element(member.serialization.get("name", name), member, value[name])
                       for name, member in shape.members.items() if value.get(name) is not None)
    if kind == "list":
        name = shape.member.serialization.get("name", "member")
        return "".join(xml_element(name, shape.member, item) for item in value)
    if kind == "map":
        key_name = shape.key.serialization.get("name", "key")
        value_name = shape.value.serialization.get("name", "value")
        return "".join(f"<entry>{xml_element(key_name, shape.key, k)}{xml_element(value_name, shape.value, v)}</entry>"
                       for k, v in value.items())
    if kind == "timestamp":
        return escape(str(timestamp(value, shape.serialization.get("timestampFormat", "iso8601"))))
    if kind == "boolean":
        return "true" if value else "false"
    if kind == "blob":
        return base64.b64encode(value if isinstance(value, bytes) else str(value).encode()).decode()
    return escape(str(value))


def xml_element(name: str, shape: Shape, value: Any) -> str:
    if shape.type_name == "list" and shape.serialization.get("flattened"):
        return "".join(xml_element(name, shape.member, item) for item in value)
    return f"<{name}>{xml_of(shape, value)}</{name}>"
