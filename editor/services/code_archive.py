"""A function's code as Lambda carries it: a zip archive. Unpacking one into the studio's files
(text files under the function's root as the code editor holds them; a binary or executable file
in its stored form, see runtime.functions.spec.file_content), packing files back into one (the
executable bit kept), and the short-lived signed links that download a version's zip as GetFunction's
`Code.Location` does (a presigned URL: no sign-in, valid for ten minutes).

    files = unpack_zip(data)            # {"lambda_function.py": "...", "bootstrap": {"base64": ..,
                                        #  "executable": True}}, or ApiError naming the file
    data = pack_zip(files)              # the same bytes for the same files
    token = download_token(version)     # version_for_token(token) -> FunctionVersion, or None
"""

from __future__ import annotations

import base64
import io
import posixpath
import stat
import zipfile

from django.core import signing

from editor.errors import ApiError
from editor.models import FunctionVersion
from runtime.functions.spec import file_content

__all__ = ["unpack_zip", "pack_zip", "download_token", "version_for_token", "ZIPPED_LIMIT", "UNZIPPED_LIMIT",
           "LINK_SECONDS"]

# Lambda's limits for a deployment package uploaded directly: 50 MB zipped, 250 MB unzipped.
ZIPPED_LIMIT = 50 * 1024 * 1024
UNZIPPED_LIMIT = 262_144_000
LINK_SECONDS = 600
_SALT = "flowbench.lambda.code-location"
# Every entry gets this date, so that the same files always make the same bytes.
_EPOCH = (1980, 1, 1, 0, 0, 0)


def _refuse(message: str, field: str = "ZipFile") -> ApiError:
    return ApiError("InvalidParameterValue", message, field=field)


def _member_path(name: str) -> str | None:
    """Returns the entry's path inside the function's root, "" for a folder, None when it escapes
    the root (an absolute path, a drive, or a `..` that climbs out)."""
    name = name.replace("\\", "/")
    if name.startswith("/") or (len(name) > 1 and name[1] == ":"):
        return None
    normal = posixpath.normpath(name)
    if normal == ".." or normal.startswith("../"):
        return None
    return "" if name.endswith("/") or normal == "." else normal


def unpack_zip(data: bytes) -> dict:
    """Returns the files of the zip archive `data`: path -> text, or the stored form of a binary
    (not UTF-8) or executable file. A symbolic link inside the root becomes a copy of the file it
    names. Refuses, naming the entry: a corrupt archive, a path or link escaping the root, more than
    Lambda's 50 MB zipped or 250 MB unzipped. Never inflates more than the limit."""
    if len(data) > ZIPPED_LIMIT:
        raise ApiError("RequestTooLarge", f"Zipped size must be smaller than {ZIPPED_LIMIT} bytes.", status=413,
                       field="ZipFile")
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        entries = archive.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, EOFError):
        raise _refuse("Could not unzip uploaded file. Please check your file, then try to upload again.") from None
    with archive:
        if sum(entry.file_size for entry in entries) > UNZIPPED_LIMIT:
            raise _refuse(f"Unzipped size must be smaller than {UNZIPPED_LIMIT} bytes")
        files: dict = {}
        links: dict[str, str] = {}
        inflated = 0
        for entry in entries:
            path = _member_path(entry.filename)
            if path is None:
                raise _refuse(f"The file {entry.filename} in the zip file is outside the function's root: "
                              "paths in the zip must stay inside it.")
            if not path or entry.is_dir():
                continue
            content = _read(archive, entry, UNZIPPED_LIMIT - inflated)
            inflated += len(content)
            mode = entry.external_attr >> 16
            if stat.S_ISLNK(mode):
                links[path] = _link_target(path, content)
                continue
            files[path] = _stored(content, executable=bool(mode & 0o111))
    for path, target in links.items():
        if target not in files:
            raise _refuse(f"The symbolic link {path} in the zip file names {target}, which is not a file of the zip.")
        files[path] = files[target]
    if not files:
        raise _refuse("The zip file has no files: a function needs at least one.")
    return files


def _link_target(path: str, content: bytes) -> str:
    """Returns the path inside the root that the symbolic link at `path` names, refusing one that
    points out of it (an absolute target, or `..` climbing past the root)."""
    target = content.decode("utf-8", "replace")
    joined = posixpath.normpath(posixpath.join(posixpath.dirname(path), target))
    if target.startswith("/") or joined == ".." or joined.startswith("../"):
        raise _refuse(f"The symbolic link {path} in the zip file points outside the function's root "
                      f"({target}): links must stay inside it.")
    return joined


def _stored(content: bytes, *, executable: bool):
    """Returns a file's stored form: its text when it is UTF-8 and not executable, else an object."""
    try:
        text = content.decode("utf-8")
    except UnicodeDecodeError:
        stored = {"base64": base64.b64encode(content).decode("ascii")}
    else:
        if not executable:
            return text
        stored = {"text": text}
    if executable:
        stored["executable"] = True
    return stored


def _read(archive: zipfile.ZipFile, entry: zipfile.ZipInfo, room: int) -> bytes:
    """Returns the entry's bytes, refusing once more than `room` come out (an entry's declared
    size may lie) or when the archive is corrupt."""
    chunks, size = [], 0
    try:
        with archive.open(entry) as stream:
            while chunk := stream.read(1024 * 1024):
                size += len(chunk)
                if size > room:
                    raise _refuse(f"Unzipped size must be smaller than {UNZIPPED_LIMIT} bytes")
                chunks.append(chunk)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, EOFError, OSError, RuntimeError,
            NotImplementedError) as exc:
        # RuntimeError: an encrypted entry; NotImplementedError: a compression zipfile lacks.
        raise _refuse(f"Could not unzip {entry.filename} in the uploaded file ({exc}).") from None
    return b"".join(chunks)


def pack_zip(files: dict) -> bytes:
    """Returns a zip archive of `files` (path -> text or stored form), the same bytes for the same
    files; executable files keep their x bits."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(files):
            entry = zipfile.ZipInfo(path, date_time=_EPOCH)
            content, executable = file_content(files[path])
            entry.external_attr = (stat.S_IFREG | (0o755 if executable else 0o644)) << 16
            entry.create_system = 3   # Unix: the mode bits above are read by unzip and Lambda
            archive.writestr(entry, content, zipfile.ZIP_DEFLATED)
    return buffer.getvalue()


def download_token(version: FunctionVersion) -> str:
    """Returns the signed token of a link that downloads `version`'s zip for LINK_SECONDS."""
    return signing.dumps({"version": version.pk}, salt=_SALT, compress=True)


def version_for_token(token: str) -> FunctionVersion | None:
    """Returns the version a download token names, or None when it is forged, expired or gone."""
    try:
        found = signing.loads(token, salt=_SALT, max_age=LINK_SECONDS)
    except signing.BadSignature:   # (SignatureExpired is one)
        return None
    pk = found.get("version") if isinstance(found, dict) else None
    return FunctionVersion.objects.select_related("function").filter(pk=pk).first() if isinstance(pk, int) else None
