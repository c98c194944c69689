"""Seed a small demo clinic: each installed app's optional `demo.seed()` runs, in app order."""

from importlib import import_module

from django.apps import apps
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from clinic.demo import DEMO_PASSWORD, DEMO_USERS


class Command(BaseCommand):
    help = "Create the demo clinic (idempotent) and print the demo logins. Development only."

    def handle(self, *args, **options):
        if not settings.DEBUG:
            raise CommandError("Demo data is for development only (DEBUG=true); refusing to seed.")
        with transaction.atomic():
            for app_config in apps.get_app_configs():
                module_name = f"{app_config.name}.demo"
                try:
                    module = import_module(module_name)
                except ModuleNotFoundError as exc:
                    if exc.name == module_name:
                        continue
                    raise
                module.seed()
        self.stdout.write(self.style.SUCCESS("Demo clinic ready: http://127.0.0.1:8000/admin/  (API: /api/docs/)"))
        for username, role in DEMO_USERS:
            self.stdout.write(f"  {role:<22} user: {username:<10} password: {DEMO_PASSWORD}")
