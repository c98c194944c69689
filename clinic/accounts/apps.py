from django.apps import AppConfig
from django.db.models.signals import post_migrate


class AccountsConfig(AppConfig):
    name = "clinic.accounts"
    label = "accounts"
    verbose_name = "Staff access"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from django.contrib import admin

        from clinic.accounts.admin_site import ClinicAdminSite
        from clinic.roles import roles_sync_after_migrate

        # django-otp's documented way to put OTP in front of the default admin site.
        admin.site.__class__ = ClinicAdminSite
        post_migrate.connect(roles_sync_after_migrate, dispatch_uid="clinic.roles.sync")
