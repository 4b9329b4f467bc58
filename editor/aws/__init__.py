"""The AWS API: boto3, the AWS CLI and every AWS SDK reach Flowbench on the studio's own address.

    middleware.py   the door: AWS requests are answered here, everything else is the studio's
    router.py       is it an AWS request, and for which service (signature scope, X-Amz-Target, path)
    dispatch.py     one request: size limit, authenticate, operation, parse, provider, serialize
    sigv4.py        Signature Version 4 checked with botocore's own signer
    chunked.py      S3's aws-chunked upload bodies, decoded, each chunk's signature checked
    sigv2.py        S3's older presigned URLs (AWSAccessKeyId, Expires, Signature)
    addressing.py   the bucket and key of an S3 request: path or virtual-host style
    auth.py         Principal (who calls), the credential sources, authorize(principal, action, arn)
    specs.py        botocore's service models: operations, shapes, REST routes
    shapes.py       reading parameters by their shapes (types, required members, constraints)
    protocols/      one generic parser + serializer per protocol family (json, rest-json, query, rest-xml)
    services.py     the table of services: signing name, botocore model, provider, body limit
    providers/      one class per service, one method per operation, calling editor/services
    errors.py       AwsError (code, message, status) and the generic refusals per protocol family
    pagination.py   opaque page tokens (Marker, nextToken) over a queryset

Nothing here writes a record: providers call editor/services, the studio's one writer.
"""
