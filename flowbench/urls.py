"""Flowbench's URLs: the admin, then everything the editor app serves."""

from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("admin/", admin.site.urls),
    path("", include("editor.urls")),
]
