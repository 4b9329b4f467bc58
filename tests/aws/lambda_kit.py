"""What the Lambda API's live tests share: zips of handlers, an execution role per person, and
unique function names."""

from __future__ import annotations

import io
import json
import uuid
import zipfile

TRUST_LAMBDA = json.dumps({"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}]})

ECHO = ("import json\n\n\n"
        "def handler(event, context):\n"
        "    print('got', json.dumps(event))\n"
        "    if isinstance(event, dict) and event.get('fail'):\n"
        "        raise ValueError('asked to fail: ' + str(event['fail']))\n"
        "    return {'echo': event, 'version': context.function_version, 'arn': context.invoked_function_arn}\n")


def zipped(files: dict[str, str | bytes]) -> bytes:
    """Returns a zip archive of `files` (path -> text or bytes), entries named as given."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for path, content in files.items():
            archive.writestr(path, content)
    return buffer.getvalue()


def echo_zip(marker: str = "") -> bytes:
    return zipped({"app.py": ECHO + (f"\nMARKER = {marker!r}\n" if marker else "")})


def unique(prefix: str = "fn") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


_roles: dict[str, str] = {}


def role_of(aws, person) -> str:
    """Returns the ARN of an execution role of `person`'s (made once through IAM)."""
    if person["name"] not in _roles:
        iam = aws(person, "iam")
        _roles[person["name"]] = iam.create_role(RoleName=unique("lambda-role"),
                                                 AssumeRolePolicyDocument=TRUST_LAMBDA)["Role"]["Arn"]
    return _roles[person["name"]]


def create(aws, person, name: str | None = None, **extra) -> dict:
    """Creates an echo function of `person`'s through boto3; returns CreateFunction's answer."""
    arguments = {"FunctionName": name or unique(), "Runtime": "python3.12", "Handler": "app.handler",
                 "Role": role_of(aws, person), "Code": {"ZipFile": echo_zip()}, **extra}
    return aws(person, "lambda").create_function(**arguments)


def zipped_with_modes(entries: list[tuple[str, str | bytes, int]]) -> bytes:
    """Returns a zip archive of (path, content, Unix mode) entries: an executable (0o100755), a
    symbolic link (0o120777, its content the target), as `zip -y` writes them."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for path, content, mode in entries:
            entry = zipfile.ZipInfo(path, date_time=(2024, 1, 1, 0, 0, 0))
            entry.create_system = 3
            entry.external_attr = mode << 16
            archive.writestr(entry, content, zipfile.ZIP_DEFLATED)
    return buffer.getvalue()
