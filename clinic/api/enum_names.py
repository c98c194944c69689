"""OpenAPI enum component names that apps contribute (drf-spectacular's ENUM_NAME_OVERRIDES).

settings.SPECTACULAR_SETTINGS holds the core's names only; an app registers the names of its own
choice sets from AppConfig.ready(), which runs before any schema is generated (drf-spectacular
reads the overrides once, on the first schema).
"""


def enum_names_register(**overrides: object) -> None:
    """Name the enum components for these choice sets (name=choices class, value list or dotted path)."""
    from drf_spectacular.settings import spectacular_settings

    # A new dict on drf-spectacular's settings object: Django's SPECTACULAR_SETTINGS stays as declared.
    merged = {**spectacular_settings.ENUM_NAME_OVERRIDES, **overrides}
    setattr(spectacular_settings, "ENUM_NAME_OVERRIDES", merged)  # noqa: B010 (the attribute APISettings caches)
