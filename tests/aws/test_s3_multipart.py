"""Multipart uploads through boto3 and the AWS CLI against the live server: parts put together in
order, S3's ETag of a multipart object, the refusals of a wrong completion, and `aws s3` copying a
file above the CLI's multipart threshold."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from botocore.exceptions import ClientError

from tests.aws.s3_support import bucket_name, error_of

MB = 1024 * 1024


def test_parts_are_put_together_in_order_with_s3s_etag(s3_bucket):
    s3, name = s3_bucket
    parts = [os.urandom(5 * MB), os.urandom(5 * MB), b"tail bytes"]
    upload = s3.create_multipart_upload(Bucket=name, Key="big/file.bin", ContentType="application/x-test",
                                        Metadata={"origin": "parts"})
    uid = upload["UploadId"]
    etags = {}
    for number in (3, 1, 2):   # in any order; a part sent again replaces the first
        if number == 1:
            s3.upload_part(Bucket=name, Key="big/file.bin", UploadId=uid, PartNumber=1, Body=b"to be replaced")
        etags[number] = s3.upload_part(Bucket=name, Key="big/file.bin", UploadId=uid, PartNumber=number,
                                       Body=parts[number - 1])["ETag"]
    assert etags[1] == f'"{hashlib.md5(parts[0]).hexdigest()}"'
    listed = s3.list_parts(Bucket=name, Key="big/file.bin", UploadId=uid)
    assert [(p["PartNumber"], p["Size"], p["ETag"]) for p in listed["Parts"]] == \
        [(n, len(parts[n - 1]), etags[n]) for n in (1, 2, 3)]
    assert [u["UploadId"] for u in s3.list_multipart_uploads(Bucket=name)["Uploads"]] == [uid]
    assert s3.list_objects_v2(Bucket=name)["KeyCount"] == 0   # nothing visible before completion
    done = s3.complete_multipart_upload(Bucket=name, Key="big/file.bin", UploadId=uid, MultipartUpload={
        "Parts": [{"PartNumber": n, "ETag": etags[n]} for n in (1, 2, 3)]})
    expected = hashlib.md5(b"".join(hashlib.md5(p).digest() for p in parts)).hexdigest() + "-3"
    assert done["ETag"] == f'"{expected}"'
    got = s3.get_object(Bucket=name, Key="big/file.bin")
    assert got["Body"].read() == b"".join(parts)
    assert (got["ContentType"], got["Metadata"], got["ETag"]) == ("application/x-test", {"origin": "parts"},
                                                                   f'"{expected}"')
    tail = s3.get_object(Bucket=name, Key="big/file.bin", Range=f"bytes={5 * MB - 3}-{5 * MB + 2}")
    assert tail["Body"].read() == parts[0][-3:] + parts[1][:3]
    with pytest.raises(ClientError) as twice:
        s3.complete_multipart_upload(Bucket=name, Key="big/file.bin", UploadId=uid, MultipartUpload={
            "Parts": [{"PartNumber": n, "ETag": etags[n]} for n in (1, 2, 3)]})
    assert error_of(twice) == ("NoSuchUpload", 404)


def test_a_wrong_completion_is_refused_and_the_upload_stays(s3_bucket):
    s3, name = s3_bucket
    uid = s3.create_multipart_upload(Bucket=name, Key="k")["UploadId"]
    small = s3.upload_part(Bucket=name, Key="k", UploadId=uid, PartNumber=1, Body=b"small")["ETag"]
    other = s3.upload_part(Bucket=name, Key="k", UploadId=uid, PartNumber=2, Body=b"other")["ETag"]
    cases = {
        "InvalidPartOrder": [{"PartNumber": 2, "ETag": other}, {"PartNumber": 1, "ETag": small}],
        "InvalidPart": [{"PartNumber": 1, "ETag": '"00000000000000000000000000000000"'}],
        "EntityTooSmall": [{"PartNumber": 1, "ETag": small}, {"PartNumber": 2, "ETag": other}],
    }
    for code, listed in cases.items():
        with pytest.raises(ClientError) as refused:
            s3.complete_multipart_upload(Bucket=name, Key="k", UploadId=uid, MultipartUpload={"Parts": listed})
        assert error_of(refused) == (code, 400)
    assert len(s3.list_parts(Bucket=name, Key="k", UploadId=uid)["Parts"]) == 2
    with pytest.raises(ClientError) as bad_number:
        s3.upload_part(Bucket=name, Key="k", UploadId=uid, PartNumber=10001, Body=b"x")
    assert error_of(bad_number) == ("InvalidArgument", 400)
    with pytest.raises(ClientError) as unknown:
        s3.upload_part(Bucket=name, Key="k", UploadId="not-an-upload", PartNumber=1, Body=b"x")
    assert error_of(unknown) == ("NoSuchUpload", 404)
    s3.complete_multipart_upload(Bucket=name, Key="k", UploadId=uid,
                                 MultipartUpload={"Parts": [{"PartNumber": 2, "ETag": other}]})
    assert s3.get_object(Bucket=name, Key="k")["Body"].read() == b"other"


def test_an_aborted_upload_is_gone(s3_bucket):
    s3, name = s3_bucket
    uid = s3.create_multipart_upload(Bucket=name, Key="k")["UploadId"]
    s3.upload_part(Bucket=name, Key="k", UploadId=uid, PartNumber=1, Body=b"x")
    assert s3.abort_multipart_upload(Bucket=name, Key="k", UploadId=uid)["ResponseMetadata"]["HTTPStatusCode"] == 204
    with pytest.raises(ClientError) as gone:
        s3.list_parts(Bucket=name, Key="k", UploadId=uid)
    assert error_of(gone) == ("NoSuchUpload", 404)
    assert "Uploads" not in s3.list_multipart_uploads(Bucket=name)


def aws_cli(server, person, *args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    """Runs the AWS CLI (`python -m awscli`) with the person's key against the server."""
    env = {"PATH": os.environ.get("PATH", ""), "HOME": str(cwd or Path.cwd()), "AWS_ACCESS_KEY_ID": person["key"],
           "AWS_SECRET_ACCESS_KEY": person["secret"], "AWS_DEFAULT_REGION": "us-east-1",
           "AWS_ENDPOINT_URL": server["base"], "AWS_CONFIG_FILE": "/dev/null",
           "AWS_SHARED_CREDENTIALS_FILE": "/dev/null"}
    return subprocess.run([sys.executable, "-m", "awscli", *args], env=env, cwd=cwd, capture_output=True, text=True,
                          timeout=180)


def test_the_aws_cli_copies_lists_syncs_and_removes(server, alice, aws, tmp_path):
    name = bucket_name("cli")
    assert aws_cli(server, alice, "s3", "mb", f"s3://{name}", cwd=tmp_path).returncode == 0
    big = tmp_path / "big.bin"
    big.write_bytes(os.urandom(20 * MB))   # above the CLI's 8 MB multipart threshold
    copied = aws_cli(server, alice, "s3", "cp", str(big), f"s3://{name}/data/big.bin", cwd=tmp_path)
    assert copied.returncode == 0, copied.stderr
    head = aws(alice, "s3").head_object(Bucket=name, Key="data/big.bin")
    assert head["ContentLength"] == 20 * MB and head["ETag"].endswith('-3"')   # 8 + 8 + 4 MB parts
    back = tmp_path / "back.bin"
    fetched = aws_cli(server, alice, "s3", "cp", f"s3://{name}/data/big.bin", str(back), cwd=tmp_path)
    assert fetched.returncode == 0, fetched.stderr
    assert hashlib.sha256(back.read_bytes()).digest() == hashlib.sha256(big.read_bytes()).digest()
    folder = tmp_path / "site"
    (folder / "css").mkdir(parents=True)
    (folder / "index.html").write_text("<h1>hi</h1>")
    (folder / "css" / "site.css").write_text("h1 {}")
    synced = aws_cli(server, alice, "s3", "sync", str(folder), f"s3://{name}/site", cwd=tmp_path)
    assert synced.returncode == 0, synced.stderr
    listing = aws_cli(server, alice, "s3", "ls", f"s3://{name}/site/", cwd=tmp_path)
    assert listing.returncode == 0, listing.stderr
    lines = listing.stdout.splitlines()
    assert any(line.strip() == "PRE css/" for line in lines) and any(line.endswith(" index.html") for line in lines)
    again = aws_cli(server, alice, "s3", "sync", str(folder), f"s3://{name}/site", cwd=tmp_path)
    assert again.returncode == 0 and "upload:" not in again.stdout   # nothing changed, nothing sent
    presigned = aws_cli(server, alice, "s3", "presign", f"s3://{name}/site/index.html", "--expires-in", "60",
                        cwd=tmp_path)
    assert presigned.returncode == 0, presigned.stderr
    assert httpx.get(presigned.stdout.strip()).text == "<h1>hi</h1>"
    buckets = aws_cli(server, alice, "s3", "ls", cwd=tmp_path)
    assert name in buckets.stdout
    removed = aws_cli(server, alice, "s3", "rb", f"s3://{name}", "--force", cwd=tmp_path)
    assert removed.returncode == 0, removed.stderr
    assert name not in [b["Name"] for b in aws(alice, "s3").list_buckets()["Buckets"]]
