"""The AWS SDKs given to functions, as AWS's runtimes ship them: boto3 for Python workers, the
JavaScript SDK v3's clients (@aws-sdk/client-*) for Node.js workers, kept read-only in a cache
shared by every worker, and installed once per recipe.

    path = install_sdk(cache_root, "python")   # installs if missing; returns the directory
    path = installed_sdk(cache_root, "nodejs")  # the directory if installed, else None

The recipes beside this file pin every package (requirements-python.txt; nodejs/package.json and
its lock file, installed with `npm ci`); the cache directory is named by the recipe's hash, so a
changed pin installs anew and never mixes with the old one. Workers find the SDK after the
function's own code and packages, so a function that packages its own boto3 gets its own:
Python appends SDK_MOUNTS["python"] to sys.path; Node.js resolves bare imports (require and
import alike) up the directory tree from /var/task, ending at /node_modules, where the clients are
mounted (bubblewrap; the plain backend gives NODE_PATH, which `require` alone reads).
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import tempfile

__all__ = ["install_sdk", "installed_sdk", "SdkInstallFailed", "SDK_MOUNTS", "RECIPES"]

HERE = os.path.dirname(os.path.abspath(__file__))
# family -> the files of its recipe; the first one is the one the installer reads.
RECIPES = {"python": [os.path.join(HERE, "requirements-python.txt")],
           "nodejs": [os.path.join(HERE, "nodejs", "package.json"), os.path.join(HERE, "nodejs", "package-lock.json")]}
SDK_MOUNTS = {"python": "/var/lang/sdk", "nodejs": "/node_modules"}   # where a bubblewrap worker sees it
INSTALL_SECONDS = 600


class SdkInstallFailed(RuntimeError):
    """pip could not install the recipe (its last lines are the message)."""


def _target(cache_root: str, family: str) -> str:
    digest = hashlib.sha256()
    for path in RECIPES[family]:
        with open(path, "rb") as f:
            digest.update(hashlib.sha256(f.read()).digest())
    return os.path.join(cache_root, f"{family}-{digest.hexdigest()[:16]}")


def _sdk_of(target: str, family: str) -> str:
    """Returns the directory workers are given within an installed recipe."""
    return os.path.join(target, "node_modules") if family == "nodejs" else target


def _install_command(family: str, staging: str) -> list[str]:
    if family == "python":
        return [sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "--no-deps",
                "--target", staging, "-r", RECIPES[family][0]]
    for path in RECIPES[family]:
        shutil.copy(path, staging)
    # No install scripts: the clients are plain JavaScript and need none.
    return ["npm", "ci", "--prefix", staging, "--omit=dev", "--ignore-scripts", "--no-audit", "--no-fund",
            "--loglevel=error"]


def installed_sdk(cache_root: str, family: str) -> str | None:
    """Returns the directory holding `family`'s SDK when it is installed, else None."""
    if family not in RECIPES:
        return None
    target = _target(cache_root, family)
    return _sdk_of(target, family) if os.path.isdir(target) else None


def install_sdk(cache_root: str, family: str = "python") -> str:
    """Installs `family`'s SDK into the cache unless it is there; returns its directory.

    pip (npm) installs into a temporary directory beside the target, which is renamed into place once
    complete: a failed or interrupted install leaves nothing a worker could see half-made."""
    found = installed_sdk(cache_root, family)
    if found:
        return found
    target = _target(cache_root, family)
    os.makedirs(cache_root, mode=0o755, exist_ok=True)
    staging = tempfile.mkdtemp(prefix=f".{family}-", dir=cache_root)
    try:
        command = _install_command(family, staging)
        done = subprocess.run(command, capture_output=True, text=True, timeout=INSTALL_SECONDS,
                              cwd=staging)
        if done.returncode != 0:
            said = (done.stderr or done.stdout).strip().splitlines()[-5:]
            raise SdkInstallFailed(f"{os.path.basename(command[0])} could not install the AWS SDK for {family}: "
                                   + " ".join(said))
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
        return _sdk_of(target, family)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
