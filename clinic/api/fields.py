"""Serializer fields every app's API shares, so that the same thing reads the same everywhere."""

from typing import Any

from django.contrib.auth import get_user_model
from rest_framework import serializers

from clinic.models.providers import staff_name


class UserField(serializers.PrimaryKeyRelatedField):
    """A staff user who did something (signed, voided, took consent, overrode the hours, wrote...).

    Reads as {"id": 7, "name": "Dana Lee, MD"} (clinic.models.providers.staff_name: full name and
    credentials, never a bare login); written, where writable, as the user's id. The schema
    documents both directions (clinic.api.schema.UserFieldExtension). Select the user with its
    provider profile (`select_related("x_by__provider")`) to keep lists at a fixed query count.
    """

    def __init__(self, **kwargs: Any) -> None:
        if not kwargs.get("read_only"):
            kwargs.setdefault("queryset", get_user_model().objects.all())
        super().__init__(**kwargs)

    def use_pk_only_optimization(self) -> bool:
        return False  # the name needs the user row

    def to_representation(self, value: Any) -> dict[str, Any]:
        return {"id": value.pk, "name": staff_name(value)}
