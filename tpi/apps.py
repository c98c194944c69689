from django.apps import AppConfig


class TpiConfig(AppConfig):
    name = "tpi"
    verbose_name = "Trigger point injections"
