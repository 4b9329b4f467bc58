"""Photo proxies, step 1: is the upload a photo? Reads the object's headers (HeadObject, with this
function's role) and says whether it is an image of an accepted type and size."""

import os
from urllib.parse import unquote_plus

import boto3

ACCEPTED = {"image/jpeg": ".jpg", "image/png": ".png", "image/gif": ".gif", "image/webp": ".webp"}
EXTENSIONS = {".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".png": "image/png", ".gif": "image/gif",
              ".webp": "image/webp"}
MAX_BYTES = int(os.environ.get("MAX_PHOTO_BYTES", str(20 * 1024 * 1024)))


def lambda_handler(event, context):
    # The EventBridge event S3 sends for "Object Created": detail.bucket.name, detail.object.key.
    bucket = event["detail"]["bucket"]["name"]
    key = unquote_plus(event["detail"]["object"]["key"])
    head = boto3.client("s3").head_object(Bucket=bucket, Key=key)
    size, content_type = head["ContentLength"], (head.get("ContentType") or "").split(";")[0].strip().lower()
    extension = os.path.splitext(key)[1].lower()
    if content_type not in ACCEPTED and content_type in ("", "application/octet-stream", "binary/octet-stream"):
        content_type = EXTENSIONS.get(extension, content_type)   # a browser that did not say: go by the name
    reason = ""
    if content_type not in ACCEPTED:
        reason = (f"{key} is {content_type or 'of no type'}, not a photo: accepted types are "
                  f"{', '.join(sorted(ACCEPTED))}.")
    elif size == 0:
        reason = f"{key} is empty."
    elif size > MAX_BYTES:
        reason = f"{key} is {size} bytes, more than the {MAX_BYTES} accepted."
    print(f"checked s3://{bucket}/{key}: {content_type}, {size} bytes: {'not a photo' if reason else 'a photo'}")
    return {"bucket": bucket, "key": key, "contentType": content_type, "size": size,
            "isPhoto": not reason, "reason": reason}
