"""Find a named submodule in every installed app, so the core can collect what apps contribute
(demo data, role permissions, API routes) without importing any app above it."""

from collections.abc import Iterator
from importlib import import_module
from types import ModuleType

from django.apps import apps


def app_modules(name: str) -> Iterator[ModuleType]:
    """Yield `<app>.<name>` for every installed app that has one, in INSTALLED_APPS order.

    NAME may be dotted ("api.urls"): an app without the package or without the module is skipped.
    """
    for app_config in apps.get_app_configs():
        module_name = f"{app_config.name}.{name}"
        try:
            module = import_module(module_name)
        except ModuleNotFoundError as exc:
            missing = exc.name or ""
            if module_name == missing or (
                module_name.startswith(f"{missing}.") and missing.startswith(f"{app_config.name}.")
            ):
                continue  # the app has no such module; a missing import inside it still fails loudly
            raise
        yield module
