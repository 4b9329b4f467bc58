"""The use cases of the studio. Views, the API and consumers call these; nothing else writes."""

from editor.services.functions import (
    create_function, delete_function, deploy_function, get_function, get_version, publish_version,
    save_code, starting_points, update_configuration,
)
from editor.services.deploys import start_deploy
from editor.services.functions import upload_zip
from editor.services.invocations import get_invocation, invocation_group, invoke_function
from editor.services.metrics import function_metrics
from editor.services.runner import available_runtimes, close_runner, get_runner
from editor.services.signin import create_signin_link, ensure_administrator, use_signin_link
from editor.services.test_events import (
    create_test_event, delete_test_event, get_test_event, update_test_event,
)

__all__ = [
    "available_runtimes", "close_runner", "create_function", "create_signin_link", "create_test_event",
    "delete_function", "delete_test_event", "deploy_function", "ensure_administrator", "function_metrics",
    "get_function", "get_invocation", "get_runner", "get_test_event", "get_version", "invocation_group",
    "invoke_function", "publish_version", "save_code", "starting_points", "update_configuration",
    "start_deploy", "update_test_event", "use_signin_link",
    "upload_zip",
]
