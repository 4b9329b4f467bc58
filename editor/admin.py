"""The admin (at /admin/) is where administrators add people; functions are shown read-only."""

from django.contrib import admin

from editor.models import Function, Invocation


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
