"""Lambda layers: zips extracted under /opt in the order a function lists them.

    check_layer_zip(data)                      -> (sha256 hex, unzipped size); refuses bad zips
    opt_dir(root, [(sha256, zip bytes), ...])  -> a directory holding the layers merged

A function's layers are merged into one read-only directory (later layers over earlier ones,
as Lambda extracts them), made once per ordered list of layer hashes (`make_once`: staged, then
renamed, under a lock) and mounted at /opt by the bubblewrap backend. There, as on Lambda,
Python finds `/opt/python` and `/opt/python/lib/pythonX.Y/site-packages` on sys.path and Node.js
`/opt/nodejs/node_modules` and `/opt/nodejs/nodeNN/node_modules` on NODE_PATH.
"""

from __future__ import annotations

import hashlib
import io
import os
import posixpath
import stat
import zipfile

from .packages import make_once

__all__ = ["InvalidLayerZip", "check_layer_zip", "opt_dir", "MAX_LAYERS", "ZIPPED_LIMIT"]

MAX_LAYERS = 5
ZIPPED_LIMIT = 50 * 1024 * 1024          # Lambda's limit for a zip uploaded directly
UNZIPPED_LIMIT = 250 * 1024 * 1024       # Lambda's limit for a function and its layers unzipped


class InvalidLayerZip(ValueError):
    """The layer's zip cannot be used: corrupt, too big, or an entry escaping the root (the
    message names the entry)."""


def _is_symlink(entry: zipfile.ZipInfo) -> bool:
    return stat.S_ISLNK(entry.external_attr >> 16)


def _inside(path: str) -> bool:
    normal = posixpath.normpath(path)
    return not (path.startswith("/") or normal == ".." or normal.startswith("../"))


def check_layer_zip(data: bytes) -> tuple[str, int]:
    """Returns the zip's SHA-256 (hex) and unzipped size; raises InvalidLayerZip for a zip over
    50 MB or 250 MB unzipped, a corrupt one, or one with a path (or a symlink's target) that
    escapes its root."""
    if len(data) > ZIPPED_LIMIT:
        raise InvalidLayerZip(f"Zipped size must be smaller than {ZIPPED_LIMIT} bytes.")
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            entries = archive.infolist()
            size = sum(entry.file_size for entry in entries)
            if size > UNZIPPED_LIMIT:
                raise InvalidLayerZip(f"Unzipped size must be smaller than {UNZIPPED_LIMIT} bytes.")
            for entry in entries:
                name = entry.filename.replace("\\", "/")
                if not _inside(name) or (len(name) > 1 and name[1] == ":"):
                    raise InvalidLayerZip(f"The path {entry.filename} in the zip file escapes the "
                                          "layer's root.")
                if _is_symlink(entry):
                    target = archive.read(entry).decode("utf-8", "replace")
                    if not _inside(posixpath.join(posixpath.dirname(name), target)):
                        raise InvalidLayerZip(f"The symlink {entry.filename} in the zip file points "
                                              f"outside the layer's root ({target}).")
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError) as exc:
        raise InvalidLayerZip("Could not unzip uploaded file. Please check your file, then try "
                              f"to upload again ({exc}).") from None
    return hashlib.sha256(data).hexdigest(), size


def _extract(data: bytes, into: str) -> None:
    """Extracts a checked zip into `into`, over what is there; keeps executable bits and
    symlinks (inside the root: check_layer_zip refused the others)."""
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        for entry in archive.infolist():
            name = posixpath.normpath(entry.filename.replace("\\", "/"))
            if name in ("", "."):
                continue
            target = os.path.join(into, name)
            if entry.is_dir():
                os.makedirs(target, exist_ok=True)
                continue
            os.makedirs(os.path.dirname(target), exist_ok=True)
            if os.path.lexists(target) and not os.path.isdir(target):
                os.unlink(target)   # a later layer's file replaces an earlier one's
            if _is_symlink(entry):
                os.symlink(archive.read(entry).decode(), target)
                continue
            with archive.open(entry) as source, open(target, "wb") as out:
                while chunk := source.read(1 << 20):
                    out.write(chunk)
            mode = entry.external_attr >> 16
            os.chmod(target, 0o755 if mode & 0o111 else 0o644)


def opt_dir(root: str, layers: list[tuple[str, "bytes | callable"]]) -> str:
    """Returns the directory of `layers` ((sha256, zip bytes or a function returning them), in
    the function's order) merged as /opt holds them, making it once; "" for no layers."""
    if not layers:
        return ""
    key = "opt-" + hashlib.sha256(" ".join(sha for sha, _ in layers).encode()).hexdigest()[:32]

    def make(build: str) -> None:
        for _, content in layers:
            _extract(content() if callable(content) else content, build)

    make_once(root, key, make)
    return os.path.join(root, key)
