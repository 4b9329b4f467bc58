"""The admin (at /admin/) is where administrators add people; functions are shown read-only."""

from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin

from editor.models import AccessKey, Execution, Function, Invocation, Role, StateMachine
from editor.services.samples import welcome

User = get_user_model()


class PersonAdmin(UserAdmin):
    """Adding a person gives them the samples the first one got (a role, functions, a machine),
    so they can create a state machine and try a Task at once."""

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        if not change:
            welcome(obj)


admin.site.unregister(User)
admin.site.register(User, PersonAdmin)


@admin.register(Function)
class FunctionAdmin(admin.ModelAdmin):
    list_display = ["name", "owner", "runtime", "updated_at"]
    list_filter = ["runtime"]
    search_fields = ["name", "owner__username"]
    readonly_fields = [f.name for f in Function._meta.fields]

    def has_add_permission(self, request):
        return False


@admin.register(Invocation)
class InvocationAdmin(admin.ModelAdmin):
    list_display = ["id", "function", "source", "status", "started_at", "duration_ms"]
    list_filter = ["status", "source"]
    readonly_fields = [f.name for f in Invocation._meta.fields]

    def has_add_permission(self, request):
        return False


@admin.register(Role)
class RoleAdmin(admin.ModelAdmin):
    list_display = ["name", "owner", "updated_at"]
    search_fields = ["name", "owner__username"]
    readonly_fields = [f.name for f in Role._meta.fields]

    def has_add_permission(self, request):
        return False


@admin.register(StateMachine)
class StateMachineAdmin(admin.ModelAdmin):
    list_display = ["name", "owner", "type", "role", "updated_at"]
    list_filter = ["type"]
    search_fields = ["name", "owner__username"]
    readonly_fields = [f.name for f in StateMachine._meta.fields]

    def has_add_permission(self, request):
        return False


@admin.register(Execution)
class ExecutionAdmin(admin.ModelAdmin):
    """Executions are read-only here: services are the only code that writes them."""

    list_display = ["name", "machine", "status", "started_at", "stopped_at", "redrive_count"]
    list_filter = ["status"]
    search_fields = ["name", "machine__name"]
    readonly_fields = [f.name for f in Execution._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(AccessKey)
class AccessKeyAdmin(admin.ModelAdmin):
    """Access keys, read-only (their secrets are never shown): staff can delete one to revoke it."""

    list_display = ["access_key_id", "user", "status", "created_at", "last_used_at", "last_used_service"]
    list_filter = ["status"]
    search_fields = ["access_key_id", "user__username"]
    fields = ["access_key_id", "user", "status", "created_at", "last_used_at", "last_used_service", "last_used_region"]
    readonly_fields = fields

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
