from django.apps import AppConfig


class TpiConfig(AppConfig):
    name = "tpi"
    verbose_name = "Trigger point injections"

    def ready(self) -> None:
        from tpi import plan_tasks  # noqa: F401  (registers the plan tasks; autodiscovery only finds tpi.tasks)
