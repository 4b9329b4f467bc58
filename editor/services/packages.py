"""Installing a function's dependencies at Deploy (runtime.functions.packages), for the studio.

Deploys (editor.services.deploys: the studio's Deploy, CreateFunction, UpdateFunctionCode) call
`install_packages` before they deploy anything: a failed install fails the Deploy with pip's or
npm's last lines and leaves the deployed version as it was. The install runs in its own processes (pip or npm in bubblewrap), never under the web
process's or anyone's credentials, within FLOWBENCH_INSTALL_TIMEOUT; its output streams line by
line to the Channels group `deploy.<function id>` (the function page shows it as it comes).
"""

from __future__ import annotations

import os
import threading

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.conf import settings

from editor import messages
from editor.errors import ApiError

__all__ = ["install_packages", "packages_cached", "deploy_group"]

_lock = threading.Lock()
_cache = None


def deploy_group(function_id) -> str:
    """Returns the Channels group of the pages watching one function's Deploy."""
    return f"deploy.{function_id}"


def _package_cache():
    global _cache
    with _lock:
        if _cache is None:
            from runtime.functions.packages import PackageCache

            root = str(settings.FLOWBENCH_PACKAGES_DIR)
            os.makedirs(root, mode=0o755, exist_ok=True)
            if os.lstat(root).st_uid != os.geteuid():   # made by someone else in a shared /tmp
                raise ApiError("PackagesDirUnsafe", f"{root} belongs to another user: set FLOWBENCH_PACKAGES_DIR.",
                               status=500)
            _cache = PackageCache(root)
        return _cache


def install_packages(runtime_family: str, files: dict, function_id=None, log: list | None = None) -> str:
    """Installs the dependencies `files` declare for the runtime (nothing when cached, as at every
    invocation) and returns their package's path ("" for none); its output goes to the Deploy's
    group and, given `log`, into that list. Raises ApiError InstallationFailed naming the file."""
    from runtime.functions import resolve_runtime
    from runtime.functions.packages import InstallFailed, dependency_files

    runtime = resolve_runtime(runtime_family)
    deps = dependency_files(runtime.family, files)
    if not deps:
        return ""
    group = deploy_group(function_id) if function_id is not None else None

    layer = get_channel_layer() if group else None

    def on_line(line: str) -> None:
        if log is not None:
            log.append(line)
        if layer is not None:
            async_to_sync(layer.group_send)(group, messages.deploy_log(line))

    try:
        return _package_cache().ensure(runtime, files, on_line=on_line,
                                       timeout=settings.FLOWBENCH_INSTALL_TIMEOUT)
    except InstallFailed as failed:
        on_line(str(failed))
        raise ApiError("InstallationFailed", f"Installing {next(iter(deps))} failed: {failed}",
                       field=next(iter(deps))) from None


def packages_cached(runtime_family: str, files: dict) -> bool:
    """Returns whether `files` need no install: they declare no dependencies, or their package is
    made already."""
    from runtime.functions import resolve_runtime

    path = _package_cache().path(resolve_runtime(runtime_family), files)
    return not path or os.path.isdir(path)
