"""Enrol a staff member's authenticator app: create a TOTP device and show its QR code."""

from typing import TextIO, cast

import segno
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django_otp.plugins.otp_totp.models import TOTPDevice


class Command(BaseCommand):
    help = "Create a TOTP device for USERNAME and print the QR code to scan (or write it as SVG/PNG)."

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--name", default="authenticator", help="device name shown in the admin")
        parser.add_argument("--qr-file", help="write the QR code to this .svg or .png file instead")
        parser.add_argument("--replace", action="store_true", help="delete the user's existing TOTP devices")

    def handle(self, *args, username, name, qr_file, replace, **options):
        user = get_user_model().objects.filter(username=username).first()
        if user is None:
            raise CommandError(f"No user {username!r}.")
        if replace:
            TOTPDevice.objects.filter(user=user).delete()
        elif TOTPDevice.objects.filter(user=user, name=name).exists():
            raise CommandError(f"{username} already has a device named {name!r}; use --replace.")
        device = TOTPDevice.objects.create(user=user, name=name, confirmed=True)
        qr = segno.make(device.config_url, micro=False)
        if qr_file:
            qr.save(qr_file, scale=5)
            self.stdout.write(f"QR code written to {qr_file}")
        else:
            # segno only writes to OUT; Django's OutputWrapper is a text stream, not typing.TextIO by name.
            qr.terminal(out=cast(TextIO, self.stdout), compact=True)
        self.stdout.write(self.style.SUCCESS(f"TOTP device {device.pk} enrolled for {username}."))
