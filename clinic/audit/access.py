"""Audit of reads: the one service every chart view, API detail and export calls."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.contrib.auth.models import User
from django.contrib.contenttypes.models import ContentType
from django.db.models import Model
from django.http import HttpRequest

from clinic.audit.models import AccessLog
from clinic.security.client_ip import client_ip

if TYPE_CHECKING:  # DRF's modules import the settings' permission classes, which reach this one
    from rest_framework.request import Request

    from clinic.models import Patient

USER_AGENT_MAX = 300
PATH_MAX = 500


def access_record(
    *, user: User, patient: Patient, obj: Model, action: str, request: HttpRequest | Request | None = None
) -> AccessLog:
    """Record that USER viewed or exported OBJ of PATIENT's chart (address, agent and path from REQUEST)."""
    if action not in AccessLog.Action.values:
        raise ValueError(f"unknown access action {action!r}")
    meta = request.META if request is not None else {}
    return AccessLog.objects.create(
        user=user,
        patient=patient,
        content_type=ContentType.objects.get_for_model(obj),
        object_id=str(obj.pk),
        action=action,
        remote_addr=client_ip(request) if request is not None else None,
        user_agent=meta.get("HTTP_USER_AGENT", "")[:USER_AGENT_MAX],
        # The path only: query strings may carry search terms (names).
        path=request.path[:PATH_MAX] if request is not None else "",
    )
