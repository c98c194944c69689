"""The visit a procedure documents: the appointment picker, and tpi's links on a checked-in visit.

"Document procedure" for the provider, "Write massage note" for the therapist.

Registered with scheduling.appointment_links from TpiConfig.ready(). The visit's procedure is the
one documented from it, else the patient's procedure of the same clinic day (the massage is usually
its own appointment, after the injection visit). Links follow the permissions and object rules:
a provider documents their own visits (a clinic admin any), a therapist writes a note while
tpi.massage allows one.
"""

import datetime as dt
from collections.abc import Sequence
from urllib.parse import urlencode

from django.db.models import Q, QuerySet
from django.urls import reverse
from django.utils import timezone

from clinic.accounts.actors import AnyUser
from clinic.clock import local_date
from scheduling.appointment_links import AppointmentLink
from scheduling.clock import day_bounds
from scheduling.models import Appointment
from tpi.access import procedure_may_change, procedures_visible
from tpi.massage import massage_note_may_be_added
from tpi.models import Procedure


def appointments_to_pick(*, patient_id: int | str | None, around: dt.datetime) -> QuerySet[Appointment]:
    """Return the patient's appointments from the clinic day before AROUND to the day after (none without a patient)."""
    if patient_id is None:
        return Appointment.objects.none()
    day = local_date(around)
    start, _ = day_bounds(day - dt.timedelta(days=1))
    _, end = day_bounds(day + dt.timedelta(days=1))
    return (
        Appointment.objects.filter(patient_id=patient_id, start__gte=start, start__lt=end)
        .select_related("provider__user", "appointment_type", "room__location")
        .order_by("start", "id")
    )


def appointment_label(appointment: Appointment) -> str:
    """Return how a visit reads in the procedure's picker: its location's time (the zone named when it is not the
    clinic's), visit type, provider, status."""
    return (
        f"{appointment.local_when} {appointment.appointment_type.name} with {appointment.provider}"
        f" ({appointment.get_status_display()})"
    )


def _visit_procedures(appointments: Sequence[Appointment], user: AnyUser) -> dict[int, Procedure]:
    """Return {appointment id: its procedure} among the procedures USER may read (one query)."""
    earliest = min(a.start for a in appointments) - dt.timedelta(days=1)
    latest = max(a.end for a in appointments) + dt.timedelta(days=1)
    visible = procedures_visible(
        user=user,
        queryset=Procedure.objects.exclude(status=Procedure.Status.VOIDED).filter(
            Q(appointment__in=appointments)
            | Q(patient__in={a.patient_id for a in appointments}, performed_at__range=(earliest, latest))
        ),
    )
    candidates = list(visible.order_by("performed_at", "id"))
    found: dict[int, Procedure] = {}
    for appointment in appointments:
        own = [p for p in candidates if p.appointment_id == appointment.pk]
        same_day = [
            p
            for p in candidates
            if p.patient_id == appointment.patient_id and local_date(p.performed_at) == local_date(appointment.start)
        ]
        chosen = (own or same_day or [None])[-1]
        if chosen is not None:
            found[appointment.pk] = chosen
    return found


def visit_links(appointments: Sequence[Appointment], user: AnyUser) -> dict[int, list[AppointmentLink]]:
    """Return the documentation links USER may follow for each checked-in or completed appointment."""
    may_document = user.has_perm("tpi.add_procedure")
    may_write_note = user.has_perm("tpi.add_massagenote")
    if not (may_document or may_write_note or user.has_perm("tpi.view_procedure")):
        return {}
    procedures = _visit_procedures(appointments, user)
    now = timezone.now()
    links: dict[int, list[AppointmentLink]] = {}
    for appointment in appointments:
        found = []
        procedure = procedures.get(appointment.pk)
        if procedure is not None and procedure.appointment_id == appointment.pk and may_document:
            found.append(AppointmentLink("Open procedure", reverse("admin:tpi_procedure_change", args=[procedure.pk])))
        elif (
            may_document
            and appointment.provider.is_injector
            and procedure_may_change(user=user, procedure=Procedure(provider=appointment.provider))
        ):
            query = urlencode(
                {"patient": appointment.patient_id, "provider": appointment.provider_id, "appointment": appointment.pk}
            )
            found.append(AppointmentLink("Document procedure", f"{reverse('admin:tpi_procedure_add')}?{query}"))
        if may_write_note and procedure is not None and massage_note_may_be_added(procedure=procedure, now=now):
            url = f"{reverse('admin:tpi_massagenote_add')}?{urlencode({'procedure': procedure.pk})}"
            found.append(AppointmentLink("Write massage note", url))
        if found:
            links[appointment.pk] = found
    return links
