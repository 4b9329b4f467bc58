"""Photo proxies, step 2: a smaller copy. Reads the photo (GetObject), makes a thumbnail with Pillow
that fits in MAX_SIDE pixels and writes it under proxies/ (PutObject) with metadata naming its
source."""

import io
import os
import posixpath

import boto3
from PIL import Image, ImageOps, UnidentifiedImageError

MAX_SIDE = int(os.environ.get("MAX_SIDE", "256"))
FORMATS = {"JPEG": "image/jpeg", "PNG": "image/png", "GIF": "image/gif", "WEBP": "image/webp"}


class NotAPhoto(Exception):
    """The object's bytes are not an image Pillow reads (whatever its name and type say)."""


def lambda_handler(event, context):
    bucket, key = event["bucket"], event["key"]
    s3 = boto3.client("s3")
    data = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
    try:
        original = Image.open(io.BytesIO(data))
        original.load()
    except (UnidentifiedImageError, OSError):
        raise NotAPhoto(f"{key} is not an image Pillow can read (its bytes are no JPEG, PNG, GIF or WebP).") from None
    kind = original.format if original.format in FORMATS else "PNG"
    proxy = ImageOps.exif_transpose(original)
    proxy.thumbnail((MAX_SIDE, MAX_SIDE))
    if kind == "JPEG" and proxy.mode not in ("RGB", "L"):
        proxy = proxy.convert("RGB")
    out = io.BytesIO()
    proxy.save(out, format=kind)
    name = posixpath.relpath(key, "uploads") if key.startswith("uploads/") else posixpath.basename(key)
    proxy_key = f"proxies/{name}"
    s3.put_object(Bucket=bucket, Key=proxy_key, Body=out.getvalue(), ContentType=FORMATS[kind],
                  Metadata={"source": key, "source-size": f"{original.width}x{original.height}"})
    print(f"proxy of s3://{bucket}/{key}: {original.size} -> {proxy.size} at s3://{bucket}/{proxy_key}")
    return {"bucket": bucket, "source": key, "proxy": proxy_key, "format": kind,
            "original": [original.width, original.height], "size": [proxy.width, proxy.height],
            "bytes": out.tell()}
