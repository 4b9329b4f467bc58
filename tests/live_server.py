"""A real Flowbench server for the tests that need one: `manage.py prepare` on a fresh data folder,
then daphne (`python -m flowbench.serve`) on a free port, as a person runs it."""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def new_signin_link(env: dict, timeout: float = 120) -> str:
    """Runs `manage.py prepare` (the first run creates the database and the administrator) and
    returns the one-time sign-in link it prints, a new one each run."""
    return re.search(r"(http://\S+/login/\S+)", manage(env, "prepare", timeout=timeout)).group(1)


@contextmanager
def running_server(data: Path, *, sample_apps: bool = False, extra_env: dict | None = None):
    """Runs `manage.py prepare` then daphne on a free port with its data in `data`; yields {"base": URL,
    "link": the administrator's sign-in link, "data": the folder, "env": the server's environment,
    "process": daphne's Popen}. The seed's three apps are loaded for the administrator only when
    `sample_apps` is true (their schedule would otherwise fire into every other test's listings);
    then the first prepare also installs their functions' packages (pip, from PyPI), so it may take
    minutes. `extra_env` is added to the server's environment."""
    # The test binds the port and hands the socket to daphne (--fd): connections wait in its
    # backlog until daphne accepts them, so nothing polls or sleeps until the server is up.
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(128)
    port = listener.getsockname()[1]
    base = f"http://127.0.0.1:{port}"
    env = {**os.environ, "FLOWBENCH_DATA_DIR": str(data), "FLOWBENCH_BASE_URL": base,
           "DJANGO_SETTINGS_MODULE": "flowbench.settings", "PYTHONUNBUFFERED": "1",
           "FLOWBENCH_SAMPLE_APPS": "1" if sample_apps else "0"}
    env.update(extra_env or {})
    env.pop("DATABASE_URL", None)
    env.pop("REDIS_URL", None)
    link = new_signin_link(env, timeout=600 if sample_apps else 120)
    log = open(data / "daphne.log", "w")
    daphne = subprocess.Popen([sys.executable, "-m", "flowbench.serve", "--fd", str(listener.fileno()),
                               "flowbench.asgi:application"], cwd=ROOT, env=env,
                              stdout=log, stderr=subprocess.STDOUT, pass_fds=[listener.fileno()])
    listener.close()
    try:
        yield {"base": base, "link": link, "data": data, "env": env, "process": daphne}
    finally:
        daphne.terminate()
        daphne.wait(timeout=20)
        log.close()


def manage(env: dict, *args: str, code: str | None = None, timeout: float = 120) -> str:
    """Runs `manage.py ARGS` (or `manage.py shell -c CODE`) against the server's data; returns its output."""
    command = [sys.executable, "manage.py", *args] if code is None else [sys.executable, "manage.py", "shell", "-c", code]
    done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout)
    if done.returncode != 0:
        raise AssertionError(f"manage.py {' '.join(args) or 'shell'} failed: {done.stderr[-2000:]}")
    return done.stdout


PERSON = """
import json
from django.conf import settings
from django.contrib.auth import get_user_model
from editor.services import create_signin_link
from editor.services.access_keys import create_access_key
from editor.services.samples import welcome
user = get_user_model().objects.create_user({name!r})
welcome(user)
key, secret = create_access_key(user)
print(json.dumps({{"name": user.username, "account": user.aws_account.account_id, "key": key.access_key_id,
                  "secret": secret, "link": f"{{settings.FLOWBENCH_BASE_URL}}/login/{{create_signin_link(user)}}"}}))
"""


def new_person(env: dict, name: str) -> dict:
    """Adds a person to the server's database as an administrator would (with the samples), with an
    access key; returns {"name", "account", "key", "secret", "link"}."""
    return json.loads(manage(env, code=PERSON.format(name=name)).strip().splitlines()[-1])
