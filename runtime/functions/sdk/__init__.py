"""The AWS SDKs given to functions, as AWS's runtimes ship them: boto3 for Python workers, kept
read-only in a cache shared by every worker, and installed once per recipe.

    path = install_sdk(cache_root, "python")   # installs if missing; returns the directory
    path = installed_sdk(cache_root, "python")  # the directory if installed, else None

The recipe (requirements-python.txt beside this file) pins every package; the cache directory is
named by the recipe's hash, so a changed pin installs anew and never mixes with the old one.
Workers see the directory at SDK_MOUNT (bubblewrap) or where it is (plain), after the function's
own code on sys.path, so a function that packages its own boto3 gets its own.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import tempfile

__all__ = ["install_sdk", "installed_sdk", "SdkInstallFailed", "SDK_MOUNT", "RECIPES"]

HERE = os.path.dirname(os.path.abspath(__file__))
RECIPES = {"python": os.path.join(HERE, "requirements-python.txt")}
SDK_MOUNT = "/var/lang/sdk"     # where a bubblewrap worker sees its family's SDK
INSTALL_SECONDS = 600


class SdkInstallFailed(RuntimeError):
    """pip could not install the recipe (its last lines are the message)."""


def _target(cache_root: str, family: str) -> str:
    with open(RECIPES[family], "rb") as f:
        digest = hashlib.sha256(f.read()).hexdigest()[:16]
    return os.path.join(cache_root, f"{family}-{digest}")


def installed_sdk(cache_root: str, family: str) -> str | None:
    """Returns the directory holding `family`'s SDK when it is installed, else None."""
    if family not in RECIPES:
        return None
    target = _target(cache_root, family)
    return target if os.path.isdir(target) else None


def install_sdk(cache_root: str, family: str = "python") -> str:
    """Installs `family`'s SDK into the cache unless it is there; returns its directory.

    pip installs into a temporary directory beside the target, which is renamed into place once
    complete: a failed or interrupted install leaves nothing a worker could see half-made."""
    found = installed_sdk(cache_root, family)
    if found:
        return found
    target = _target(cache_root, family)
    os.makedirs(cache_root, mode=0o755, exist_ok=True)
    staging = tempfile.mkdtemp(prefix=f".{family}-", dir=cache_root)
    try:
        done = subprocess.run(
            [sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "--no-deps",
             "--target", staging, "-r", RECIPES[family]],
            capture_output=True, text=True, timeout=INSTALL_SECONDS)
        if done.returncode != 0:
            said = (done.stderr or done.stdout).strip().splitlines()[-5:]
            raise SdkInstallFailed("pip could not install the AWS SDK: " + " ".join(said))
        shutil.rmtree(os.path.join(staging, "bin"), ignore_errors=True)
        for directory, _, files in os.walk(staging):
            os.chmod(directory, 0o755)
            for name in files:
                os.chmod(os.path.join(directory, name), 0o644)
        try:
            os.rename(staging, target)
        except OSError:   # another process installed it first
            if not os.path.isdir(target):
                raise
        return target
    finally:
        shutil.rmtree(staging, ignore_errors=True)
