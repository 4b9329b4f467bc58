"""The download of a function version's code as a zip: GetFunction's `Code.Location`. Like an S3
presigned URL it needs no sign-in: the signed token in the link is the credential, valid for ten
minutes (editor.services.code_archive)."""

from __future__ import annotations

from django.contrib.auth.decorators import login_not_required
from django.http import Http404, HttpResponse
from django.views.decorators.http import require_GET

from editor.services.code_archive import pack_zip, version_for_token


@login_not_required
@require_GET
def function_code_zip(request, token):
    version = version_for_token(token)
    if version is None:
        raise Http404("This link is not valid, or has expired: call GetFunction for a new one.")
    name = f"{version.function.name}-{version.label.replace('$', '')}.zip"
    return HttpResponse(pack_zip(version.files), content_type="application/zip",
                        headers={"Content-Disposition": f'attachment; filename="{name}"'})


@login_not_required
@require_GET
def layer_content_zip(request, token):
    """Downloads a layer version's zip: GetLayerVersion's `Content.Location`, signed as the code's."""
    from editor.services.layers import layer_version_for_token

    version = layer_version_for_token(token)
    if version is None:
        raise Http404("This link is not valid, or has expired: call GetLayerVersion for a new one.")
    return HttpResponse(bytes(version.content), content_type="application/zip",
                        headers={"Content-Disposition": f'attachment; filename="{version.layer.name}-{version.version}.zip"'})
