"""The seed's three serverless apps as samples: photo proxies (a bucket upload starts a state machine
that checks the photo and makes a smaller copy), a crawler (a schedule runs a state machine whose
Choice sends success and failure each to its own function) and a chat (a WebSocket API whose
connect, message and disconnect routes each call a function).

Each app is a module of this package, named in MODULES, holding `APP`, a SampleApp: what it is
(id, title, summary, the template of its page under /samples/<id>/), `load(user)`, which creates
the functions, roles, buckets, machines and triggers the user lacks and returns their names (it
never changes what the user already has, so running it twice creates nothing the second time), and
`resources(user)`, the things of the app the user has, each {"kind", "name", "href"}, for its page.

`manage.py prepare` loads them for the administrator on the first run (FLOWBENCH_SAMPLE_APPS=0
leaves them out); anyone loads one from the Samples page.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

MODULES: tuple[str, ...] = ("photo_proxies", "crawler", "chat")
HERE = Path(__file__).resolve().parent


@dataclass(frozen=True)
class SampleApp:
    id: str
    title: str
    summary: str
    template: str
    load: Callable[[Any], list[str]]
    resources: Callable[[Any], list[dict]]
    functions: tuple[str, ...] = ()   # its functions whose packages may install after a load


def all_apps() -> list[SampleApp]:
    """Returns every sample app in MODULES' order (imported on first use: the apps use the services,
    which must not be imported while the models load)."""
    return [importlib.import_module(f"{__name__}.{name}").APP for name in MODULES]


def app_named(app_id: str) -> SampleApp | None:
    return next((app for app in all_apps() if app.id == app_id), None)


def function_files(app_id: str, function: str) -> dict[str, str]:
    """Returns the code of one of an app's functions: every file of its folder
    editor/samples/apps/<app id>/<function>/, by name."""
    folder = HERE / app_id / function
    return {path.name: path.read_text(encoding="utf-8") for path in sorted(folder.iterdir()) if path.is_file()}


def definition(app_id: str) -> str:
    """Returns the text of an app's state machine (editor/samples/apps/<app id>/machine.json), whose
    Task resources start with "{arn}", the function ARN prefix of the user who loads it."""
    return (HERE / app_id / "machine.json").read_text(encoding="utf-8")
