#!/usr/bin/env python
"""Flowbench's command-line entry: `python manage.py prepare`, `runserver`, `load_samples`, ..."""
import os
import sys


def main():
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "flowbench.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
