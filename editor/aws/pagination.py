"""Pages of a listing for the AWS API: IAM's Marker/MaxItems, Lambda's Marker/MaxItems, Step
Functions' nextToken/maxResults. The token is opaque to the client (base64 of where the page
ended), so a listing stays stable while records are added or removed between pages.

    found, token = paginate(Role.objects.filter(owner=user), "name", params.get("Marker"),
                            params.get("MaxItems") or 100, invalid=refusal("validation", "Invalid Marker."))
"""

from __future__ import annotations

import base64
import binascii
import json

from editor.aws.errors import AwsError


def _encode(after: str) -> str:
    return base64.urlsafe_b64encode(json.dumps({"after": after}).encode()).decode()


def _decode(token: str) -> str | None:
    try:
        found = json.loads(base64.urlsafe_b64decode(token.encode()))
    except (binascii.Error, ValueError, UnicodeError):
        return None
    after = found.get("after") if isinstance(found, dict) else None
    return after if isinstance(after, str) else None


def paginate(queryset, field: str, token: str | None, limit: int, *, invalid: AwsError) -> tuple[list, str | None]:
    """Returns the page of `queryset` (ordered by `field`) after `token`, at most `limit` long, and
    the token of the next page (None on the last); an unreadable token raises `invalid`."""
    if token:
        after = _decode(token)
        if after is None:
            raise invalid
        queryset = queryset.filter(**{f"{field}__gt": after})
    found = list(queryset.order_by(field)[:limit + 1])
    if len(found) <= limit:
        return found, None
    found = found[:limit]
    return found, _encode(getattr(found[-1], field))


def paginate_list(items: list, key, token: str | None, limit: int, *, invalid: AwsError) -> tuple[list, str | None]:
    """Returns the page of `items` (in order of the text `key(item)`) after `token`, at most
    `limit` long, and the next page's token: `paginate` for listings built in Python."""
    items = sorted(items, key=key)
    if token:
        after = _decode(token)
        if after is None:
            raise invalid
        items = [item for item in items if key(item) > after]
    if len(items) <= limit:
        return items, None
    return items[:limit], _encode(key(items[limit - 1]))
