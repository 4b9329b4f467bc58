"""Pages of a listing for the AWS API: IAM's and Lambda's Marker/MaxItems, Step Functions'
nextToken/maxResults. The token is opaque to the client (base64 of the values where the page
ended: keyset paging), so a listing stays stable while records are added or removed between
pages: a row added at the head of the list neither repeats nor hides rows on the next page.

    found, token = paginate(Role.objects.filter(owner=user), "name", params.get("Marker"),
                            params.get("MaxItems") or 100, invalid=refusal("validation", "Invalid Marker."))
    found, token = paginate(executions, ("-started_at", "-id"), token, 100, invalid=bad_token)
"""

from __future__ import annotations

import base64
import binascii
import json
import uuid
from datetime import datetime

from django.core.exceptions import ValidationError
from django.db.models import Q

from editor.aws.errors import AwsError


def _encode(after: list) -> str:
    return base64.urlsafe_b64encode(json.dumps({"after": after}).encode()).decode()


def _decode(token: str, count: int) -> list | None:
    try:
        after = json.loads(base64.urlsafe_b64decode(token.encode()))["after"]
    except (binascii.Error, ValueError, UnicodeError, KeyError, TypeError):
        return None
    return after if isinstance(after, list) and len(after) == count else None


def _plain(value):
    if isinstance(value, datetime):
        return value.isoformat()
    return str(value) if isinstance(value, uuid.UUID) else value


def _after(values: list, order: tuple[str, ...]) -> Q:
    """Returns the condition of the rows after `values` in `order`: past the first field, or
    equal there and past the next one, and so on."""
    condition = Q(pk__in=[])
    equal = Q()
    for field, value in zip(order, values):
        name = field.lstrip("-")
        condition |= equal & Q(**{f"{name}__{'lt' if field.startswith('-') else 'gt'}": value})
        equal &= Q(**{name: value})
    return condition


def paginate(queryset, order: str | tuple[str, ...], token: str | None, limit: int, *,
             invalid: AwsError) -> tuple[list, str | None]:
    """Returns the page of `queryset` in `order` (a field name or several, "-" for descending,
    the last one unique) after `token`, at most `limit` long, and the token of the next page (None
    on the last); an unreadable token raises `invalid`."""
    order = (order,) if isinstance(order, str) else tuple(order)
    rows = queryset.order_by(*order)
    try:
        if token:
            after = _decode(token, len(order))
            if after is None:
                raise invalid
            rows = rows.filter(_after(after, order))
        found = list(rows[:limit + 1])
    except (ValidationError, ValueError, TypeError):   # a token whose values are not the fields'
        raise invalid from None
    if len(found) <= limit:
        return found, None
    found = found[:limit]
    return found, _encode([_plain(getattr(found[-1], field.lstrip("-"))) for field in order])


def paginate_list(items: list, key, token: str | None, limit: int, *, invalid: AwsError) -> tuple[list, str | None]:
    """Returns the page of `items` (in order of the text `key(item)`) after `token`, at most
    `limit` long, and the next page's token: `paginate` for listings built in Python."""
    items = sorted(items, key=key)
    if token:
        after = _decode(token, 1)
        if after is None or not isinstance(after[0], str):
            raise invalid
        items = [item for item in items if key(item) > after[0]]
    if len(items) <= limit:
        return items, None
    return items[:limit], _encode([key(items[limit - 1])])
