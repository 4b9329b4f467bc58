"""Pages, sign-in and the JSON API of the studio."""

from django.contrib.auth.views import LogoutView
from django.urls import path, re_path

from editor import api, api_machines, views, views_machines

api_patterns = [
    path("api/runtimes", api.runtimes, name="api-runtimes"),
    path("api/functions", api.functions, name="api-functions"),
    path("api/functions/<str:name>", api.function_detail, name="api-function"),
    path("api/functions/<str:name>/code", api.function_code, name="api-function-code"),
    path("api/functions/<str:name>/configuration", api.function_configuration, name="api-function-configuration"),
    path("api/functions/<str:name>/deploy", api.function_deploy, name="api-function-deploy"),
    path("api/functions/<str:name>/versions", api.function_versions, name="api-function-versions"),
    path("api/functions/<str:name>/versions/<str:qualifier>", api.function_version, name="api-function-version"),
    path("api/functions/<str:name>/test-events", api.test_events, name="api-test-events"),
    path("api/functions/<str:name>/test-events/<str:event_id>", api.test_event_detail, name="api-test-event"),
    path("api/functions/<str:name>/test", api.function_test, name="api-function-test"),
    path("api/functions/<str:name>/invocations", api.function_invocations, name="api-function-invocations"),
    path("api/functions/<str:name>/invocations/<str:invocation_id>", api.invocation_detail,
         name="api-invocation"),
    path("api/functions/<str:name>/metrics", api.function_metrics, name="api-function-metrics"),
    path("api/roles", api_machines.role_list, name="api-roles"),
    path("api/roles/default-policy", api_machines.role_default_policy, name="api-role-default-policy"),
    path("api/roles/<str:name>", api_machines.role_detail, name="api-role"),
    path("api/policies/validate", api_machines.policy_validate, name="api-policy-validate"),
    path("api/state-machines", api_machines.machine_list, name="api-machines"),
    path("api/state-machine-templates", api_machines.machine_templates, name="api-machine-templates"),
    path("api/state-machines/validate", api_machines.machine_validate, name="api-machine-validate"),
    path("api/state-machines/<str:name>", api_machines.machine_detail, name="api-machine"),
    path("api/state-machines/<str:name>/versions", api_machines.machine_versions, name="api-machine-versions"),
    path("api/state-machines/<str:name>/versions/<str:number>", api_machines.machine_version,
         name="api-machine-version"),
    path("api/state-machines/<str:name>/executions", api_machines.machine_executions, name="api-machine-executions"),
    path("api/state-machines/<str:name>/recent-inputs", api_machines.machine_recent_inputs,
         name="api-machine-recent-inputs"),
    path("api/executions/<str:execution_id>", api_machines.execution_detail, name="api-execution"),
    path("api/executions/<str:execution_id>/events", api_machines.execution_events, name="api-execution-events"),
    path("api/executions/<str:execution_id>/stop", api_machines.execution_stop, name="api-execution-stop"),
    path("api/executions/<str:execution_id>/redrive", api_machines.execution_redrive, name="api-execution-redrive"),
    path("api/executions/<str:execution_id>/invocations", api_machines.execution_invocations,
         name="api-execution-invocations"),
    re_path(r"^api/", api.api_not_found),
]

urlpatterns = [
    path("favicon.ico", views.favicon, name="favicon"),
    path("login/", views.SignInView.as_view(), name="login"),
    path("login/<str:token>", views.signin_link, name="login-link"),
    path("logout/", LogoutView.as_view(), name="logout"),
    path("", views.function_list, name="function-list"),
    path("functions/new", views.function_create, name="function-create"),
    path("functions/<str:name>/", views.function_page, name="function"),
    path("roles/", views_machines.role_list, name="role-list"),
    path("roles/new", views_machines.role_create, name="role-create"),
    path("roles/<str:name>/", views_machines.role_page, name="role"),
    path("state-machines/", views_machines.machine_list, name="machine-list"),
    path("state-machines/new", views_machines.machine_create, name="machine-create"),
    path("state-machines/<str:name>/", views_machines.machine_page, name="machine"),
    path("state-machines/<str:name>/executions/", views_machines.execution_list, name="execution-list"),
    path("executions/<str:execution_id>/", views_machines.execution_page, name="execution"),
    *api_patterns,
]
