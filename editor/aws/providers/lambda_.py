"""AWS Lambda (REST-JSON, API version 2015-03-31): the studio's functions, their versions and
aliases, and Invoke. editor.services.functions and editor.services.invocations are the writers;
the function pages show what this creates, and the reverse."""

from __future__ import annotations

from editor.aws.providers.base import Provider


class LambdaProvider(Provider):
    pass
