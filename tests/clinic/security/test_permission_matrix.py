"""Every role through every admin page and every API endpoint: the expected allow/deny, never a 500.

The pages come from the admin site's registry (and each ModelAdmin's own URLs: the day sheet, the
booking form, the series page...), the endpoints from the OpenAPI schema; a page or endpoint missing
from the tables below fails the test, so whoever adds one decides who may use it.

Allowed means 200 (or the page's own redirect, listed in ADMIN_REDIRECTS) in the admin, and any
answer but 401/403 in the API (an empty body may well be a 400); refused means 403 - except an
admin change page of an object outside the user's list, which Django answers with its "does not
exist" redirect (302), the same as for a missing id.
"""

import datetime as dt

import pytest
import time_machine
from axes.models import AccessLog as AxesAccessLog
from django.contrib import admin
from django.urls import reverse
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice
from drf_spectacular.generators import SchemaGenerator
from rest_framework.test import APIClient

from clinic import roles
from clinic.accounts.breakglass import break_glass_open
from clinic.audit.access import access_record
from clinic.messaging.consent import consent_change
from clinic.messaging.models import Message
from clinic.messaging.triage import triage_open
from scheduling.booking import appointment_book, appointment_cancel
from scheduling.calendar import calendar_feed_ensure
from scheduling.series import series_commit
from scheduling.waitlist import waitlist_entry_create
from tests.factories import (
    AppointmentTypeFactory,
    ClosureFactory,
    InjectionFactory,
    MassageNoteFactory,
    PatientFactory,
    ProviderFactory,
    RoomFactory,
    UserFactory,
    signed_procedure,
    staff_user,
    working_week,
)
from tpi.models import StockLot
from tpi.plans import plan_create

pytestmark = pytest.mark.django_db

FD, PR, MT, CA, NONE = roles.FRONT_DESK, roles.PROVIDER, roles.MASSAGE_THERAPIST, roles.CLINIC_ADMIN, None
ALL = (FD, PR, MT, CA)
ROLES = [*ALL, NONE]
STAFF, CLINICAL, CHART = (FD, CA), (PR, CA), (PR, MT, CA)
NOBODY: tuple = ()

# --- Admin: "<app>_<model>_<page>" -> roles allowed ----------------------------------------------
ADMIN = {
    "auth_group_changelist": (CA,),
    "auth_group_add": (CA,),
    "auth_group_change": (CA,),
    "auth_user_changelist": (CA,),
    "auth_user_add": (CA,),
    "auth_user_change": (CA,),
    "auth_user_password_change": (CA,),
    "clinic_patient_changelist": ALL,
    "clinic_patient_add": STAFF,
    "clinic_patient_change": ALL,  # clinicians read it
    "clinic_patient_delete": NOBODY,  # patients are never deleted
    "clinic_patient_import": (CA,),  # onboarding writes a whole clinic
    "clinic_provider_changelist": ALL,
    "clinic_provider_add": (CA,),
    "clinic_provider_change": ALL,
    "clinic_healthping_changelist": (CA,),
    "clinic_healthping_add": (CA,),
    "messaging_message_changelist": (FD, PR, CA),
    "messaging_message_add": NOBODY,
    "messaging_message_change": (FD, PR, CA),  # the world's booking notice
    "messaging_messageneedingattention_changelist": STAFF,
    "messaging_messageneedingattention_add": NOBODY,
    "messaging_messageneedingattention_change": STAFF,
    "messaging_inboundmessage_changelist": (FD, PR, CA),
    "messaging_inboundmessage_add": NOBODY,
    "scheduling_waitlistentry_changelist": (FD, PR, CA),
    "scheduling_waitlistentry_add": STAFF,
    "scheduling_waitlistentry_change": (FD, PR, CA),
    "scheduling_freedslot_changelist": (FD, PR, CA),
    "scheduling_freedslot_add": NOBODY,
    "scheduling_freedslot_change": (FD, PR, CA),
    "messaging_triageitem_changelist": (FD, PR, CA),
    "messaging_triageitem_add": NOBODY,
    "messaging_triageitem_change": (FD, PR, CA),
    "messaging_consentevent_changelist": (FD, PR, CA),
    "messaging_consentevent_add": STAFF,
    "messaging_consentevent_change": (FD, PR, CA),
    "scheduling_location_changelist": ALL,
    "scheduling_location_add": (CA,),
    "scheduling_location_change": ALL,
    "scheduling_closure_changelist": ALL,
    "scheduling_closure_add": (CA,),
    "scheduling_closure_change": ALL,
    "scheduling_closure_affected": ALL,
    "scheduling_room_changelist": ALL,
    "scheduling_room_add": (CA,),
    "scheduling_room_change": ALL,
    "scheduling_appointmenttype_changelist": ALL,
    "scheduling_appointmenttype_add": (CA,),
    "scheduling_appointmenttype_change": ALL,
    "scheduling_workinghours_changelist": ALL,
    "scheduling_workinghours_add": (CA,),
    "scheduling_workinghours_change": ALL,
    "scheduling_timeoff_changelist": ALL,
    "scheduling_timeoff_add": (CA,),
    "scheduling_appointment_changelist": ALL,
    "scheduling_appointment_add": STAFF,  # redirects to the booking form
    "scheduling_appointment_change": ALL,
    "scheduling_appointment_book": STAFF,
    "scheduling_appointment_daysheet": ALL,
    "scheduling_appointment_series": STAFF,
    "scheduling_appointment_move": STAFF,
    "scheduling_appointment_status": STAFF,  # a POST form: walked with an empty POST
    "scheduling_appointment_confirm_status": STAFF,  # a POST form: walked with an empty POST
    "scheduling_appointment_undo_status": STAFF,  # a POST form: walked with an empty POST
    "scheduling_appointment_week": ALL,
    "scheduling_appointment_numbers": (FD, CA),
    "scheduling_appointment_import": (CA,),  # onboarding
    "scheduling_series_changelist": ALL,
    "scheduling_series_add": NOBODY,  # series are made on the series page
    "scheduling_series_change": ALL,
    "scheduling_calendarfeed_changelist": (CA,),
    "scheduling_calendarfeed_add": (CA,),
    "scheduling_calendarfeed_change": (CA,),
    "tpi_triggerpointsite_changelist": CHART,
    "tpi_triggerpointsite_add": (CA,),
    "tpi_triggerpointsite_change": CHART,
    "tpi_stocklot_changelist": CLINICAL,  # the stocked anaesthetic lots: clinic admins keep them
    "tpi_stocklot_add": (CA,),
    "tpi_stocklot_change": CLINICAL,
    "tpi_procedure_changelist": CHART,
    "tpi_procedure_add": CLINICAL,
    "tpi_procedure_change": CHART,  # the provider's own; the therapist sees the basics
    "tpi_procedure_sign": CLINICAL,  # the sign step: read and acknowledge the warnings
    "tpi_procedure_copy_forward": CLINICAL,  # POSTed; goes back to the draft's page
    "tpi_massagenote_changelist": CHART,
    "tpi_massagenote_add": (MT, CA),  # the therapist's own document
    "tpi_massagenote_change": CHART,  # read by the procedure's rules; written by its therapist
    "tpi_followup_changelist": (FD, PR, CA),  # kind, due time, pain answer: the review queue
    "tpi_followup_add": NOBODY,  # made by signing
    "tpi_followup_change": (FD, PR, CA),
    "tpi_procedureoutcome_changelist": CLINICAL,  # the results dashboard: a provider's own, admins all
    "tpi_procedureoutcome_repeat": CLINICAL,
    "tpi_treatmentplan_changelist": (FD, PR, CA),
    "tpi_treatmentplan_add": CLINICAL,  # providers prescribe the plan
    "tpi_treatmentplan_change": (FD, PR, CA),  # the front desk changes who, where and when
    "tpi_planoccurrence_changelist": (FD, PR, CA),  # the front desk's review queue
    "tpi_planoccurrence_add": NOBODY,  # made with the plan
    "tpi_planoccurrence_change": (FD, PR, CA),
    "tpi_fhirexport_changelist": (CA,),  # the whole clinic's records: clinic admins only
    "tpi_fhirexport_add": NOBODY,  # started on the start page
    "tpi_fhirexport_start": (CA,),
    "authtoken_tokenproxy_changelist": (CA,),
    "authtoken_tokenproxy_add": (CA,),
    "axes_accessattempt_changelist": (CA,),
    "axes_accessattempt_add": NOBODY,
    "axes_accesslog_changelist": (CA,),
    "axes_accesslog_add": NOBODY,
    "axes_accesslog_change": (CA,),
    "axes_accessfailurelog_changelist": (CA,),
    "axes_accessfailurelog_add": NOBODY,
    "otp_totp_totpdevice_changelist": (CA,),
    "otp_totp_totpdevice_add": (CA,),
    "otp_totp_totpdevice_change": (CA,),
    "otp_totp_totpdevice_config": (CA,),
    "otp_totp_totpdevice_qrcode": (CA,),
    "accounts_breakglassgrant_changelist": (CA,),
    "accounts_breakglassgrant_add": (CA,),
    "accounts_breakglassgrant_change": (CA,),
    "audit_accesslog_changelist": (CA,),
    "audit_accesslog_add": NOBODY,
    "audit_accesslog_change": (CA,),
    "auditlog_logentry_changelist": (CA,),
    "auditlog_logentry_add": NOBODY,
    "auditlog_logentry_change": (CA,),
}
ADMIN_REDIRECTS = {"scheduling_appointment_add"}  # allowed answers 302 to the booking form
# POSTed (empty); allowed goes back (to the day sheet, to the draft's page)
ADMIN_POST_ONLY = {
    "scheduling_appointment_status",
    "scheduling_appointment_confirm_status",
    "scheduling_appointment_undo_status",
    "tpi_procedure_copy_forward",
}
ADMIN_SKIPPED = {"history", "delete"}  # history pages follow view permission; delete: checked for patients


# --- API: (method, schema path) -> roles allowed ---------------------------------------------------
API = {
    ("get", "/api/patients/"): ALL,
    ("post", "/api/patients/"): STAFF,
    ("get", "/api/patients/{id}/"): ALL,
    ("put", "/api/patients/{id}/"): STAFF,
    ("patch", "/api/patients/{id}/"): STAFF,
    ("get", "/api/patients/{id}/export/"): (CA,),
    ("get", "/api/patients/{id}/pain-scores/"): CLINICAL,  # pain over time: the clinical detail
    ("get", "/api/providers/"): ALL,
    ("get", "/api/providers/{id}/"): ALL,
    ("get", "/api/appointment-types/"): ALL,
    ("get", "/api/appointment-types/{id}/"): ALL,
    ("get", "/api/locations/"): ALL,
    ("get", "/api/locations/{id}/"): ALL,
    ("get", "/api/closures/"): ALL,
    ("post", "/api/closures/"): (CA,),
    ("get", "/api/closures/{id}/"): ALL,
    ("get", "/api/rooms/"): ALL,
    ("get", "/api/rooms/{id}/"): ALL,
    ("get", "/api/working-hours/"): ALL,
    ("get", "/api/working-hours/{id}/"): ALL,
    ("get", "/api/free-slots/"): ALL,
    ("get", "/api/appointments/"): ALL,
    ("post", "/api/appointments/"): STAFF,
    ("get", "/api/appointments/{id}/"): ALL,
    ("get", "/api/appointments/{id}/ics/"): ALL,
    ("post", "/api/appointments/{id}/cancel/"): STAFF,
    ("post", "/api/appointments/{id}/move/"): STAFF,
    ("post", "/api/appointments/{id}/status/"): STAFF,
    ("post", "/api/appointments/{id}/undo/"): STAFF,
    ("get", "/api/series/"): ALL,
    ("post", "/api/series/"): STAFF,
    ("get", "/api/series/{id}/"): ALL,
    ("post", "/api/series/preview/"): STAFF,
    ("get", "/api/sites/"): CHART,
    ("get", "/api/sites/{id}/"): CHART,
    ("get", "/api/procedures/"): CHART,
    ("post", "/api/procedures/"): CLINICAL,
    ("get", "/api/procedures/{id}/"): CHART,
    ("put", "/api/procedures/{id}/"): CLINICAL,
    ("patch", "/api/procedures/{id}/"): CLINICAL,
    ("get", "/api/procedures/{id}/warnings/"): CLINICAL,  # allergies and medication: not for therapists
    ("post", "/api/procedures/{id}/sign/"): CLINICAL,
    ("post", "/api/procedures/{id}/copy-forward/"): CLINICAL,
    ("post", "/api/procedures/{id}/apply-defaults/"): CLINICAL,
    ("post", "/api/procedures/{id}/void/"): CLINICAL,
    ("post", "/api/procedures/{id}/addenda/"): CLINICAL,
    ("get", "/api/massage-notes/"): CHART,
    ("post", "/api/massage-notes/"): (MT, CA),
    ("get", "/api/massage-notes/{id}/"): CHART,
    ("put", "/api/massage-notes/{id}/"): (MT, CA),
    ("patch", "/api/massage-notes/{id}/"): (MT, CA),
    ("post", "/api/massage-notes/{id}/sign/"): (MT, CA),
    ("post", "/api/massage-notes/{id}/addenda/"): (MT, CA),
    ("get", "/api/treatment-plans/"): (FD, PR, CA),
    ("post", "/api/treatment-plans/"): CLINICAL,
    ("get", "/api/treatment-plans/{id}/"): (FD, PR, CA),
    ("patch", "/api/treatment-plans/{id}/"): (FD, PR, CA),
    ("post", "/api/treatment-plans/{id}/cancel/"): (FD, PR, CA),
    ("post", "/api/treatment-plans/{id}/book-next/"): (FD, PR, CA),
    ("get", "/api/plan-occurrences/"): (FD, PR, CA),
    ("get", "/api/plan-occurrences/{id}/"): (FD, PR, CA),
    ("get", "/api/waitlist/"): (FD, PR, CA),
    ("post", "/api/waitlist/"): STAFF,
    ("get", "/api/waitlist/{id}/"): (FD, PR, CA),
    ("post", "/api/waitlist/{id}/withdraw/"): STAFF,
    ("get", "/api/triage/"): (FD, PR, CA),
    ("get", "/api/triage/{id}/"): (FD, PR, CA),
    ("post", "/api/triage/{id}/handle/"): (FD, PR, CA),
    ("post", "/api/triage/{id}/answer/"): (FD, PR, CA),
}
# The calendar feed's secret token is its credential (calendar apps cannot sign in): checked apart.
API_TOKEN_ONLY = {("get", "/api/calendar/providers/{provider_id}/{token}.ics")}


@pytest.fixture
def world():
    """One user per role (the provider and the therapist with their profiles) and one of every record."""
    with time_machine.travel(dt.datetime(2026, 11, 30, 7, tzinfo=dt.UTC), tick=False):
        doctor = working_week(ProviderFactory())
        therapist = ProviderFactory(role="massage_therapist", credentials="LMT")
        users = {
            FD: staff_user(FD),
            PR: doctor.user,
            MT: therapist.user,
            CA: staff_user(CA),
            NONE: UserFactory(),
        }
        patient = PatientFactory()
        procedure = InjectionFactory(procedure__patient=patient, procedure__provider=doctor).procedure
        note = MassageNoteFactory(procedure=procedure, therapist=therapist)
        room = RoomFactory()
        visit = AppointmentTypeFactory()
        closure = ClosureFactory(first_day=dt.date(2027, 12, 25), last_day=dt.date(2027, 12, 25))
        start = timezone.now().replace(hour=15) + dt.timedelta(days=1)
        appointment = appointment_book(
            patient=patient, provider=doctor, room=room, appointment_type=visit, start=start, by=None
        )
        # Its booking notice failed: the messages pages (and the failed list's) have a row to open.
        Message.objects.update(status="failed", needs_review=True)
        series = series_commit(
            patient=patient,
            provider=doctor,
            room=room,
            appointment_type=visit,
            dtstart=start + dt.timedelta(days=2),
            rrule="FREQ=WEEKLY;COUNT=2",
            by=None,
        )
        signed = signed_procedure(performed_at=timezone.now() - dt.timedelta(hours=2), provider=doctor)
        plan = plan_create(
            patient=patient,
            by=doctor.user,
            provider=doctor,
            appointment_type=visit,
            start_date=(start + dt.timedelta(days=28)).date(),
            preferred_time=dt.time(10),
            interval_weeks=4,
            injections=2,
        )
        consent_change(patient=patient, channel="sms", granted=False, source="staff", by=users[CA])
        break_glass_open(user=users[CA], patient=patient, reason="audit of the permission matrix")
        feed = calendar_feed_ensure(provider=doctor)
        access_record(user=users[CA], patient=patient, obj=patient, action="view", request=None)
        TOTPDevice.objects.create(user=users[CA], name="phone")
        AxesAccessLog.objects.create(username="someone", ip_address="192.0.2.1", user_agent="test", path_info="/")
        StockLot.objects.create(
            agent="lidocaine", concentration_percent=1, lot_number="L-1", expires_on=dt.date(2027, 1, 31)
        )
        triage = triage_open(patient=patient, reason="free_text", concerns=appointment)
        waiting = waitlist_entry_create(
            patient=patient,
            appointment_type=visit,
            location=room.location,
            until=start.date() + dt.timedelta(days=30),
            by=None,
        )
        appointment_cancel(appointment=series.appointments.first(), by=None, reason="matrix: free a slot")
    ids = {
        "patient": patient.pk,
        "provider": doctor.pk,
        "procedure": procedure.pk,
        "massage-note": note.pk,
        "appointment": appointment.pk,
        "series": series.pk,
        "room": room.pk,
        "location": room.location_id,
        "closure": closure.pk,
        "appointment-type": visit.pk,
        "site": procedure.injections.get().site_id,
        "working-hours": doctor.working_hours.first().pk,
        "treatment-plan": plan.pk,
        "plan-occurrence": plan.occurrences.order_by("sequence").first().pk,
        "follow-up": signed.follow_ups.first().pk,
        "triage": triage.pk,
        "waitlist": waiting.pk,
    }
    return {"users": users, "ids": ids, "feed": feed, "doctor": doctor}


def admin_pages(world) -> list[tuple[str, str]]:
    """Return (url name, url) for every admin page of every registered model."""
    pages = []
    for model, model_admin in admin.site._registry.items():
        opts = model._meta
        prefix = f"{opts.app_label}_{opts.model_name}"
        instance = model._default_manager.order_by("pk").first()
        for pattern in model_admin.get_urls():
            name = pattern.name
            if not name or (name.removeprefix(prefix + "_") in ADMIN_SKIPPED and name != "clinic_patient_delete"):
                continue
            args = ["object_id", "id", "pk"]
            needs = [a for a in args if f"<{a}>" in str(pattern.pattern) or f":{a}>" in str(pattern.pattern)]
            if needs and instance is None:
                continue  # nothing to open; the changelist and add pages are still walked
            pages.append((name, reverse(f"admin:{name}", args=[instance.pk] if needs else [])))
    return pages


def test_every_admin_page_has_an_expectation(world):
    names = {name for name, _ in admin_pages(world)}
    assert sorted(names - set(ADMIN)) == [], "add the new admin pages to ADMIN"
    assert sorted(set(ADMIN) - names) == [], "ADMIN names pages that no longer exist (or have no object)"


@pytest.mark.parametrize("role", ROLES, ids=str)
def test_admin_matrix(client, world, role):
    client.force_login(world["users"][role])
    wrong = []
    for name, url in admin_pages(world):
        allowed = role in ADMIN[name]
        status = (client.post if name in ADMIN_POST_ONLY else client.get)(url).status_code
        if allowed:
            ok = status == (302 if name in ADMIN_REDIRECTS | ADMIN_POST_ONLY else 200)
        else:
            ok = status == 403 or (status == 302 and name.endswith("_change") and name not in ADMIN_REDIRECTS)
        if not ok:
            wrong.append(f"{name}: {status} ({'allow' if allowed else 'deny'} expected)")
    assert wrong == []


@pytest.mark.parametrize("role", ROLES, ids=str)
def test_admin_index_shows_only_what_the_role_may_see(client, world, role):
    client.force_login(world["users"][role])
    response = client.get("/admin/")
    assert response.status_code == 200
    visible = {m["object_name"] for app in response.context["app_list"] for m in app["models"]}
    assert ("AccessLog" in visible) == (role == CA)
    assert ("BreakGlassGrant" in visible) == (role == CA)
    assert ("User" in visible) == (role == CA)
    assert ("Patient" in visible) == (role is not None)
    assert ("Procedure" in visible) == (role in CHART)


def api_operations() -> list[tuple[str, str]]:
    schema = SchemaGenerator().get_schema(request=None, public=True)
    verbs = ("get", "post", "put", "patch", "delete")
    return [(verb, path) for path, ops in schema["paths"].items() for verb in ops if verb in verbs]


def test_every_api_endpoint_has_an_expectation():
    operations = set(api_operations())
    assert sorted(operations - set(API) - API_TOKEN_ONLY) == [], "add the new endpoints to API"
    assert sorted(set(API) - operations) == []


def _url(path: str, ids: dict) -> str:
    resource = path.split("/")[2].removesuffix("s") if "{id}" in path else None
    resource = {"serie": "series", "working-hour": "working-hours", "addenda": "procedure"}.get(resource, resource)
    return path.replace("{id}", str(ids[resource])) if resource else path


@pytest.mark.parametrize("role", ROLES, ids=str)
def test_api_matrix(world, role):
    client = APIClient()
    client.force_authenticate(world["users"][role])
    wrong = []
    for verb, path in api_operations():
        if (verb, path) in API_TOKEN_ONLY:
            continue
        url = _url(path, world["ids"])
        response = getattr(client, verb)(url, {}, format="json") if verb != "get" else client.get(url)
        allowed = role in API[(verb, path)]
        ok = (
            (response.status_code not in (401, 403) and response.status_code < 500)
            if allowed
            else (response.status_code == 403)
        )
        if not ok:
            wrong.append(f"{verb.upper()} {url}: {response.status_code} ({'allow' if allowed else 'deny'} expected)")
    assert wrong == []


def test_api_anonymous_is_refused_everywhere_but_the_token_feed(world):
    client = APIClient()
    for verb, path in api_operations():
        if (verb, path) in API_TOKEN_ONLY:
            continue
        url = _url(path, world["ids"])
        response = getattr(client, verb)(url, {}, format="json") if verb != "get" else client.get(url)
        assert (response.status_code, response["WWW-Authenticate"]) == (401, "Token"), f"{verb} {url}"
    for url in ("/api/schema/", "/api/docs/"):
        assert client.get(url).status_code == 401, url


def test_the_calendar_feed_answers_its_token_only(world):
    client = APIClient()
    doctor, token = world["doctor"], world["feed"].token
    assert client.get(f"/api/calendar/providers/{doctor.pk}/{token}.ics").status_code == 200
    assert client.get(f"/api/calendar/providers/{doctor.pk}/{'x' * len(token)}.ics").status_code == 404


# --- Admin inlines: "<parent app_model>.<inline model>" -> the API list whose rows it may show -------
# An inline that shows clinical rows shows only what the same user reads through the API; a new
# inline fails test_every_admin_inline_has_an_expectation until it is listed here.
INLINES = {
    "clinic_patient.tpi_procedure": "procedures",
    "tpi_procedure.tpi_injection": "procedures",  # rows of the procedures the API shows
    "tpi_procedure.tpi_massagenote": "massage-notes",
    "tpi_procedure.tpi_addendum": "procedures",
    "tpi_procedure.tpi_followup": "procedures",
    "tpi_massagenote.tpi_massagedsite": "massage-notes",  # rows of the notes the API shows
    "tpi_massagenote.tpi_massagenoteaddendum": "massage-notes",
    "messaging_message.messaging_messageevent": None,  # no clinical rows
    "messaging_messageneedingattention.messaging_messageevent": None,
    "messaging_triageitem.messaging_triageanswer": None,  # staff's own texts to the patient
    "scheduling_waitlistentry.scheduling_waitlistoffer": None,  # who, where and when: the front desk's work
    "scheduling_appointment.scheduling_appointmentstatuschange": None,
    "scheduling_appointment.scheduling_appointmentreminder": None,  # when and whether, no clinical rows
    "scheduling_series.scheduling_appointment": None,
    "tpi_treatmentplan.tpi_planoccurrence": None,  # who, where and when: the front desk's work
    "scheduling_location.scheduling_openinghours": None,  # set-up, no clinical rows
    "scheduling_location.scheduling_room": None,
}


def _label(model) -> str:
    return f"{model._meta.app_label}_{model._meta.model_name}"


def test_every_admin_inline_has_an_expectation():
    found = {
        f"{_label(model)}.{_label(inline.model)}"
        for model, model_admin in admin.site._registry.items()
        for inline in model_admin.inlines
    }
    assert sorted(found - set(INLINES)) == [], "add the new admin inlines to INLINES"
    assert sorted(set(INLINES) - found) == []


@pytest.fixture
def stranger_procedure(world):
    """Another provider's procedure (with a massage note and an addendum) for the same patient."""
    from tpi.signing import addendum_add, procedure_sign

    with time_machine.travel(dt.datetime(2026, 11, 30, 7, tzinfo=dt.UTC), tick=False):
        other = ProviderFactory()
        procedure = InjectionFactory(
            procedure__provider=other,
            procedure__patient_id=world["ids"]["patient"],
            procedure__performed_at=timezone.now() - dt.timedelta(hours=3),
        ).procedure
        MassageNoteFactory(procedure=procedure)
        procedure_sign(procedure=procedure, by=other.user)
        addendum_add(procedure=procedure, author=other.user, text="late entry")
    return procedure


def _api_ids(client, resource: str) -> set[int]:
    response = client.get(f"/api/{resource}/?page_size=100")
    return {row["id"] for row in response.json()["results"]} if response.status_code == 200 else set()


@pytest.mark.parametrize("role", ROLES, ids=str)
def test_admin_inlines_show_only_what_the_api_shows(client, world, stranger_procedure, role):
    from tpi.models import MassagedSite, MassageNote, MassageNoteAddendum, Procedure

    user = world["users"][role]
    client.force_login(user)
    api = APIClient()
    api.force_authenticate(user)
    allowed = {"procedures": _api_ids(api, "procedures"), "massage-notes": _api_ids(api, "massage-notes")}
    pages = [reverse("admin:clinic_patient_change", args=[world["ids"]["patient"]])]
    pages += [reverse("admin:tpi_procedure_change", args=[pk]) for pk in Procedure.objects.values_list("pk", flat=True)]
    pages += [
        reverse("admin:tpi_massagenote_change", args=[pk]) for pk in MassageNote.objects.values_list("pk", flat=True)
    ]
    wrong, shown = [], 0
    for url in pages:
        response = client.get(url)
        if response.status_code != 200:
            continue
        for formset in response.context["inline_admin_formsets"]:
            key = f"{_label(formset.formset.instance)}.{_label(formset.opts.model)}"
            for row in formset.formset.get_queryset():
                shown += 1
                rule = INLINES[key]
                if rule is None:
                    continue
                pk = {Procedure: "pk", MassageNote: "pk", MassagedSite: "note_id", MassageNoteAddendum: "note_id"}
                pk = getattr(row, pk.get(formset.opts.model, "procedure_id"))
                if pk not in allowed[rule]:
                    wrong.append(f"{url}: {key} #{row.pk}")
    assert wrong == []
    if role == PR:
        # The provider's patient page lists their own procedure, never the other provider's.
        page = client.get(reverse("admin:clinic_patient_change", args=[world["ids"]["patient"]]))
        listed = {
            row.pk for fs in page.context["inline_admin_formsets"] for row in fs.formset.get_queryset()
            if fs.opts.model is Procedure
        }  # fmt: skip
        assert listed == {world["ids"]["procedure"]}
    if role in (CA, MT):
        assert shown > 0  # the walk saw rows: the test can fail
