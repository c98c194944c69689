"""Seed a small demo clinic: each installed app's optional `demo.seed()` runs, in app order."""

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from clinic.app_modules import app_modules
from clinic.demo import DEMO_PASSWORD, DEMO_USERS


class Command(BaseCommand):
    help = "Create the demo clinic (idempotent) and print the demo logins. Development only."

    def handle(self, *args, **options):
        if not settings.DEBUG:
            raise CommandError("Demo data is for development only (DEBUG=true); refusing to seed.")
        with transaction.atomic():
            for module in app_modules("demo"):
                module.seed()
        self.stdout.write(self.style.SUCCESS("Demo clinic ready: http://127.0.0.1:8000/admin/  (API: /api/docs/)"))
        for username, role in DEMO_USERS:
            self.stdout.write(f"  {role:<22} user: {username:<10} password: {DEMO_PASSWORD}")
