"""Amazon S3: buckets, objects and multipart uploads, one method per operation.

    buckets.py     CreateBucket, ListBuckets, DeleteBucket, HeadBucket, GetBucketLocation, ListObjects(V2),
                   Put/GetBucketNotificationConfiguration
    objects.py     PutObject, GetObject, HeadObject, DeleteObject(s), CopyObject
    multipart.py   Create/Complete/AbortMultipartUpload, UploadPart, ListParts, ListMultipartUploads
"""

from editor.aws.providers.s3.buckets import BucketOperations
from editor.aws.providers.s3.multipart import MultipartOperations
from editor.aws.providers.s3.objects import ObjectOperations


class S3Provider(BucketOperations, ObjectOperations, MultipartOperations):
    """S3's operations, as the three groups above implement them."""


__all__ = ["S3Provider"]
