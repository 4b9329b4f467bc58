"""S3 on the wire: virtual-host addressing, presigned URLs fetched with plain HTTP, the payload
forms S3's signature allows (signed, UNSIGNED-PAYLOAD, aws-chunked streams signed chunk by chunk
or with a trailing checksum), S3's XML errors, and a role session held to its policy."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import socket
import uuid
import zlib
from datetime import datetime, timedelta, timezone
from unittest import mock
from urllib.parse import urlsplit
from xml.etree import ElementTree

import boto3
import httpx
import pytest
from botocore.auth import S3SigV4Auth, SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.config import Config
from botocore.credentials import Credentials
from botocore.exceptions import ClientError

from tests.aws.s3_support import bucket_name, error_of
from tests.live_server import manage


def s3_client(server, person, **config):
    session = boto3.session.Session(aws_access_key_id=person["key"], aws_secret_access_key=person["secret"],
                                    region_name="us-east-1")
    return session.client("s3", endpoint_url=server["base"], config=Config(retries={"max_attempts": 1}, **config))


def test_virtual_host_style_names_the_bucket_in_the_host(server, alice):
    port = urlsplit(server["base"]).port
    real = socket.getaddrinfo

    def resolve(host, *args, **kwargs):   # what resolvers that send *.localhost to the loopback do
        return real("127.0.0.1" if str(host).endswith(".localhost") else host, *args, **kwargs)

    session = boto3.session.Session(aws_access_key_id=alice["key"], aws_secret_access_key=alice["secret"],
                                    region_name="us-east-1")
    s3 = session.client("s3", endpoint_url=f"http://localhost:{port}",
                        config=Config(s3={"addressing_style": "virtual"}, retries={"max_attempts": 1}))
    hosts = []
    s3.meta.events.register("before-send", lambda request, **_: hosts.append(urlsplit(request.url).hostname))
    name = bucket_name("vhost")
    with mock.patch("socket.getaddrinfo", resolve):
        s3.create_bucket(Bucket=name)
        s3.put_object(Bucket=name, Key="dir/file name.txt", Body=b"virtual")
        assert s3.get_object(Bucket=name, Key="dir/file name.txt")["Body"].read() == b"virtual"
        assert [o["Key"] for o in s3.list_objects_v2(Bucket=name)["Contents"]] == ["dir/file name.txt"]
    assert set(hosts) == {f"{name}.localhost"}
    path_style = s3_client(server, alice)
    assert path_style.get_object(Bucket=name, Key="dir/file name.txt")["Body"].read() == b"virtual"


def test_presigned_urls_get_and_put_with_plain_http_until_they_expire(s3_bucket, server, alice, bob):
    _, name = s3_bucket
    s3 = s3_client(server, alice, signature_version="s3v4")
    s3.put_object(Bucket=name, Key="shared/report.txt", Body=b"quarterly", ContentType="text/plain")
    url = s3.generate_presigned_url("get_object", Params={"Bucket": name, "Key": "shared/report.txt"}, ExpiresIn=60)
    fetched = httpx.get(url)
    assert fetched.status_code == 200 and fetched.content == b"quarterly"
    assert fetched.headers["content-type"] == "text/plain"
    ranged = httpx.get(url, headers={"Range": "bytes=0-3"})
    assert (ranged.status_code, ranged.content) == (206, b"quar")
    renamed = s3.generate_presigned_url("get_object", ExpiresIn=60, Params={
        "Bucket": name, "Key": "shared/report.txt", "ResponseContentDisposition": "attachment; filename=r.txt"})
    assert httpx.get(renamed).headers["content-disposition"] == "attachment; filename=r.txt"
    upload = s3.generate_presigned_url("put_object", Params={"Bucket": name, "Key": "inbox/new.bin"}, ExpiresIn=60)
    assert httpx.put(upload, content=b"\x00\x01uploaded").status_code == 200
    assert s3.get_object(Bucket=name, Key="inbox/new.bin")["Body"].read() == b"\x00\x01uploaded"

    tampered = httpx.get(url.replace("shared/report.txt", "inbox/new.bin"))
    assert (tampered.status_code, _code(tampered)) == (403, "SignatureDoesNotMatch")
    past = datetime.now(timezone.utc) - timedelta(minutes=5)
    with mock.patch("botocore.auth.datetime.datetime") as clock, \
            mock.patch("botocore.auth.get_current_datetime", return_value=past):
        clock.utcnow.return_value = past.replace(tzinfo=None)
        expired = s3.generate_presigned_url("get_object", Params={"Bucket": name, "Key": "shared/report.txt"},
                                            ExpiresIn=60)
    answer = httpx.get(expired)
    assert (answer.status_code, _code(answer)) == (403, "AccessDenied")
    bobs = s3_client(server, bob, signature_version="s3v4").generate_presigned_url("get_object", ExpiresIn=60,
                                                         Params={"Bucket": name, "Key": "shared/report.txt"})
    assert (httpx.get(bobs).status_code, _code(httpx.get(bobs))) == (403, "AccessDenied")


def test_s3s_older_query_signature_presigns_as_boto3_does_by_default(s3_bucket, server, alice):
    s3, name = s3_bucket
    s3.put_object(Bucket=name, Key="old style/report.txt", Body=b"signed the old way")
    url = s3.generate_presigned_url("get_object", Params={"Bucket": name, "Key": "old style/report.txt"},
                                    ExpiresIn=60)
    assert "AWSAccessKeyId=" in url and "X-Amz-Algorithm" not in url
    assert httpx.get(url).content == b"signed the old way"
    renamed = s3.generate_presigned_url("get_object", ExpiresIn=60, Params={
        "Bucket": name, "Key": "old style/report.txt", "ResponseContentType": "text/markdown"})
    assert httpx.get(renamed).headers["content-type"] == "text/markdown"
    upload = s3.generate_presigned_url("put_object", Params={"Bucket": name, "Key": "in/new.bin"}, ExpiresIn=60)
    assert httpx.put(upload, content=b"put the old way").status_code == 200
    assert s3.get_object(Bucket=name, Key="in/new.bin")["Body"].read() == b"put the old way"
    tampered = httpx.get(url.replace("report.txt", "other.txt"))
    assert (tampered.status_code, _code(tampered)) == (403, "SignatureDoesNotMatch")
    expired = s3.generate_presigned_url("get_object", Params={"Bucket": name, "Key": "old style/report.txt"},
                                        ExpiresIn=-5)
    answer = httpx.get(expired)
    assert (answer.status_code, _code(answer)) == (403, "AccessDenied")
    forged = url.replace(alice["key"], "AKIANOTAKEY000000000")
    assert (httpx.get(forged).status_code, _code(httpx.get(forged))) == (403, "InvalidAccessKeyId")


def _code(response: httpx.Response) -> str:
    return ElementTree.fromstring(response.content).findtext("Code")


def test_an_unsigned_payload_is_accepted(s3_bucket, server, alice):
    s3, name = s3_bucket
    sent = []
    plain = s3_client(server, alice, s3={"payload_signing_enabled": False})
    plain.meta.events.register("before-send", lambda request, **_: sent.append(
        request.headers.get("x-amz-content-sha256")))
    plain.put_object(Bucket=name, Key="unsigned", Body=b"unsigned payload")
    assert sent == [b"UNSIGNED-PAYLOAD"]
    assert s3.get_object(Bucket=name, Key="unsigned")["Body"].read() == b"unsigned payload"


def _signing_key(secret: str, day: str) -> bytes:
    key = ("AWS4" + secret).encode()
    for part in (day, "us-east-1", "s3", "aws4_request"):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    return key


def streamed_put(server, person, bucket: str, key: str, chunks: list[bytes], *, tamper: bool = False,
                 trailer_crc32: str | None = None, tamper_trailer: bool = False):
    """PUTs `chunks` as a STREAMING-AWS4-HMAC-SHA256-PAYLOAD body, each chunk signed in the chain
    from the request's own signature (built here as SigV4's specification lays it out); with
    `trailer_crc32`, as STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER ending with that checksum, signed."""
    url = f"{server['base']}/{bucket}/{key}"
    total = sum(len(c) for c in chunks)
    mode = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD" + ("-TRAILER" if trailer_crc32 else "")
    headers = {"x-amz-content-sha256": mode, "content-encoding": "aws-chunked",
               "x-amz-decoded-content-length": str(total)}
    if trailer_crc32:
        headers["x-amz-trailer"] = "x-amz-checksum-crc32"
    request = AWSRequest(method="PUT", url=url, headers=headers)
    SigV4Auth(Credentials(person["key"], person["secret"]), "s3", "us-east-1").add_auth(request)
    previous = request.headers["Authorization"].rpartition("Signature=")[2]
    amz_date = request.headers["X-Amz-Date"]
    scope = f"{amz_date[:8]}/us-east-1/s3/aws4_request"
    key_bytes = _signing_key(person["secret"], amz_date[:8])

    def sign(*lines: str) -> str:
        return hmac.new(key_bytes, "\n".join(lines).encode(), hashlib.sha256).hexdigest()

    body = b""
    for chunk in chunks + [b""]:
        previous = sign("AWS4-HMAC-SHA256-PAYLOAD", amz_date, scope, previous, hashlib.sha256(b"").hexdigest(),
                        hashlib.sha256(chunk).hexdigest())
        sent = chunk[:-1] + b"!" if tamper and chunk else chunk
        body += f"{len(chunk):x};chunk-signature={previous}\r\n".encode() + sent
        body += b"\r\n" if chunk or not trailer_crc32 else b""
    if trailer_crc32:
        trailer = f"x-amz-checksum-crc32:{trailer_crc32}\n"
        signature = sign("AWS4-HMAC-SHA256-TRAILER", amz_date, scope, previous,
                         hashlib.sha256(trailer.encode()).hexdigest())
        sent_crc = "AAAAAA==" if tamper_trailer else trailer_crc32
        body += f"x-amz-checksum-crc32:{sent_crc}\r\nx-amz-trailer-signature:{signature}\r\n\r\n".encode()
    headers = dict(request.headers.items())
    headers["Content-Length"] = str(len(body))
    return httpx.put(url, content=body, headers=headers)


def unsigned_trailer_put(server, person, bucket: str, key: str, chunks: list[bytes], crc32: str):
    """PUTs `chunks` as a STREAMING-UNSIGNED-PAYLOAD-TRAILER body ending with its CRC32."""
    url = f"{server['base']}/{bucket}/{key}"
    body = b"".join(f"{len(c):x}\r\n".encode() + c + b"\r\n" for c in chunks)
    body += f"0\r\nx-amz-checksum-crc32:{crc32}\r\n\r\n".encode()
    request = AWSRequest(method="PUT", url=url, headers={
        "x-amz-content-sha256": "STREAMING-UNSIGNED-PAYLOAD-TRAILER", "content-encoding": "aws-chunked",
        "x-amz-trailer": "x-amz-checksum-crc32", "x-amz-decoded-content-length": str(sum(map(len, chunks)))})
    SigV4Auth(Credentials(person["key"], person["secret"]), "s3", "us-east-1").add_auth(request)
    return httpx.put(url, content=body, headers=dict(request.headers.items()))


def test_a_streamed_upload_with_a_trailing_checksum_is_checked_against_it(s3_bucket, server, alice):
    s3, name = s3_bucket
    chunks = [b"first chunk " * 100, b"second"]
    right = base64.b64encode(zlib.crc32(b"".join(chunks)).to_bytes(4, "big")).decode()
    answer = unsigned_trailer_put(server, alice, name, "trailed.txt", chunks, right)
    assert answer.status_code == 200, answer.text
    assert s3.get_object(Bucket=name, Key="trailed.txt")["Body"].read() == b"".join(chunks)
    wrong = unsigned_trailer_put(server, alice, name, "wrong.txt", chunks, "AAAAAA==")
    assert (wrong.status_code, _code(wrong)) == (400, "BadDigest")
    assert [o["Key"] for o in s3.list_objects_v2(Bucket=name)["Contents"]] == ["trailed.txt"]


def test_a_streamed_upload_signed_chunk_by_chunk_is_stored_and_a_tampered_chunk_refused(s3_bucket, server, alice):
    s3, name = s3_bucket
    chunks = [b"a" * 65536, b"b" * 65536, b"tail"]
    answer = streamed_put(server, alice, name, "streamed.bin", chunks)
    assert answer.status_code == 200, answer.text
    assert s3.get_object(Bucket=name, Key="streamed.bin")["Body"].read() == b"".join(chunks)
    assert answer.headers["etag"] == f'"{hashlib.md5(b"".join(chunks)).hexdigest()}"'
    refused = streamed_put(server, alice, name, "tampered.bin", chunks, tamper=True)
    assert (refused.status_code, _code(refused)) == (403, "SignatureDoesNotMatch")
    assert [o["Key"] for o in s3.list_objects_v2(Bucket=name)["Contents"]] == ["streamed.bin"]


def test_a_streamed_upload_with_a_signed_trailer_checks_the_trailers_signature_and_checksum(s3_bucket, server,
                                                                                           alice):
    s3, name = s3_bucket
    chunks = [b"c" * 70000, b"end"]
    crc = base64.b64encode(zlib.crc32(b"".join(chunks)).to_bytes(4, "big")).decode()
    answer = streamed_put(server, alice, name, "signed-trailer.bin", chunks, trailer_crc32=crc)
    assert answer.status_code == 200, answer.text
    assert s3.get_object(Bucket=name, Key="signed-trailer.bin")["Body"].read() == b"".join(chunks)
    forged = streamed_put(server, alice, name, "forged-trailer.bin", chunks, trailer_crc32=crc, tamper_trailer=True)
    assert (forged.status_code, _code(forged)) == (403, "SignatureDoesNotMatch")
    wrong = base64.b64encode(zlib.crc32(b"other").to_bytes(4, "big")).decode()
    mismatched = streamed_put(server, alice, name, "wrong-crc.bin", chunks, trailer_crc32=wrong)
    assert (mismatched.status_code, _code(mismatched)) == (400, "BadDigest")
    assert [o["Key"] for o in s3.list_objects_v2(Bucket=name)["Contents"]] == ["signed-trailer.bin"]


def test_a_body_that_is_not_what_its_sha256_header_says_is_refused(s3_bucket, server, alice):
    s3, name = s3_bucket
    url = f"{server['base']}/{name}/k"
    request = AWSRequest(method="PUT", url=url, data=b"what was signed")
    S3SigV4Auth(Credentials(alice["key"], alice["secret"]), "s3", "us-east-1").add_auth(request)
    headers = dict(request.headers.items())
    answer = httpx.put(url, content=b"something else!", headers=headers)
    assert (answer.status_code, _code(answer)) == (400, "XAmzContentSHA256Mismatch")
    assert s3.list_objects_v2(Bucket=name)["KeyCount"] == 0


def test_errors_are_s3s_xml_with_a_request_id(s3_bucket, server, alice, aws):
    s3, name = s3_bucket
    url = f"{server['base']}/{name}/missing.txt"
    request = AWSRequest(method="GET", url=url)
    request.headers["x-amz-content-sha256"] = hashlib.sha256(b"").hexdigest()
    SigV4Auth(Credentials(alice["key"], alice["secret"]), "s3", "us-east-1").add_auth(request)
    answer = httpx.get(url, headers=dict(request.headers.items()))
    document = ElementTree.fromstring(answer.content)
    assert answer.status_code == 404 and document.tag == "Error"
    assert document.findtext("Code") == "NoSuchKey" and document.findtext("RequestId") == \
        answer.headers["x-amz-request-id"]
    unsigned = httpx.get(url)
    assert unsigned.status_code != 200 and b"missing" not in unsigned.content
    with pytest.raises(ClientError) as not_yet:
        s3.get_bucket_tagging(Bucket=name)
    assert error_of(not_yet) == ("NotImplemented", 501)
    wrong_secret = aws(alice, "s3", secret="not-the-secret")
    with pytest.raises(ClientError) as forged:
        wrong_secret.list_objects_v2(Bucket=name)
    assert error_of(forged) == ("SignatureDoesNotMatch", 403)
    unknown_key = aws(alice, "s3", key="AKIANOTAKEY000000000")
    with pytest.raises(ClientError) as unknown:
        unknown_key.list_buckets()
    assert error_of(unknown) == ("InvalidAccessKeyId", 403)
    bad_xml = AWSRequest(method="POST", url=f"{server['base']}/{name}?delete", data=b"<Delete><Object>")
    SigV4Auth(Credentials(alice["key"], alice["secret"]), "s3", "us-east-1").add_auth(bad_xml)
    malformed = httpx.post(f"{server['base']}/{name}?delete", content=b"<Delete><Object>",
                           headers=dict(bad_xml.headers.items()))
    assert (malformed.status_code, _code(malformed)) == (400, "MalformedXML")


ROLE_SESSION = """
import json
from editor.models import Role
from editor.services.role_sessions import issue_session
role = Role.objects.get(name={role!r}, owner__username={owner!r})
session, secret, token = issue_session(role, "test", seconds=900)
print(json.dumps({{"key": session.access_key_id, "secret": secret, "token": token}}))
"""


def test_a_role_session_does_what_its_policy_allows_on_the_objects_it_names(s3_bucket, server, aws, alice):
    s3, name = s3_bucket
    s3.put_object(Bucket=name, Key="public/readme.txt", Body=b"readable")
    s3.put_object(Bucket=name, Key="private/secret.txt", Body=b"hidden")
    role = f"reader-{uuid.uuid4().hex[:6]}"
    iam = aws(alice, "iam")
    iam.create_role(RoleName=role, AssumeRolePolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}]}))
    iam.put_role_policy(RoleName=role, PolicyName="read-public", PolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Action": "s3:GetObject", "Resource": f"arn:aws:s3:::{name}/public/*"},
            {"Effect": "Allow", "Action": "s3:ListBucket", "Resource": f"arn:aws:s3:::{name}"}]}))
    found = json.loads(manage(server["env"], code=ROLE_SESSION.format(role=role, owner=alice["name"]))
                       .strip().splitlines()[-1])
    session = boto3.session.Session(aws_access_key_id=found["key"], aws_secret_access_key=found["secret"],
                                    aws_session_token=found["token"], region_name="us-east-1")
    as_role = session.client("s3", endpoint_url=server["base"], config=Config(retries={"max_attempts": 1}))
    assert as_role.get_object(Bucket=name, Key="public/readme.txt")["Body"].read() == b"readable"
    assert as_role.list_objects_v2(Bucket=name)["KeyCount"] == 2
    for attempt in (lambda: as_role.get_object(Bucket=name, Key="private/secret.txt"),
                    lambda: as_role.put_object(Bucket=name, Key="public/new.txt", Body=b"x"),
                    lambda: as_role.delete_object(Bucket=name, Key="public/readme.txt"),
                    lambda: as_role.list_buckets()):
        with pytest.raises(ClientError) as denied:
            attempt()
        assert error_of(denied) == ("AccessDenied", 403)
    assert s3.get_object(Bucket=name, Key="public/readme.txt")["Body"].read() == b"readable"
