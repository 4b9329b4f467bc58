"""The AWS API's door in Django: first in MIDDLEWARE, it answers every AWS request itself (no
session, no CSRF, no sign-in redirect: the signature is the credential) and hands everything else
to the studio."""

from __future__ import annotations

from editor.aws import dispatch
from editor.aws.http import Request
from editor.aws.router import looks_like_aws
from editor.aws.services import registry


class AwsApiMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if not looks_like_aws(request.method, request.path, request.headers, request.GET):
            return self.get_response(request)
        # Read with the AWS services' own limits rather than DATA_UPLOAD_MAX_MEMORY_SIZE: a body
        # past the largest is cut there, and its service refuses it as too large.
        body = request.read(registry.max_body + 1)
        return dispatch.handle(Request.from_django(request, body)).as_django()
