"""Helpers for tests that run with two-factor sign-in switched on (OTP_REQUIRED=True)."""

from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.plugins.otp_totp.models import TOTPDevice


def verified_login(client, user) -> TOTPDevice:
    """Sign USER in on the Django test CLIENT as if they had entered a valid TOTP code."""
    device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
    device = device or TOTPDevice.objects.create(user=user, name="test", confirmed=True)
    client.force_login(user)
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()
    return device
