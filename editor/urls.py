"""Pages, sign-in and the JSON API of the studio."""

from django.contrib.auth.views import LogoutView
from django.urls import path, re_path

from editor import api, views, views_machines

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
    re_path(r"^api/", api.api_not_found),
]

urlpatterns = [
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
