"""Front desk in the admin: booking form with slot suggestions, day sheet, status actions, records."""

import datetime as dt

from django.conf import settings
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Case, When
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from clinic.accounts.actors import request_user
from clinic.admin_imports import import_view
from clinic.admin_tools import (
    BadParameter,
    CheckedInitialMixin,
    GrowingTableAdminMixin,
    PickerLabelMixin,
    ReadOnlyAdminMixin,
    admin_page_context,
    initial_check,
    query_date,
    staff_datetime_display,
)
from clinic.clock import staff_datetime
from clinic.models import Provider
from clinic.roles import is_clinic_admin
from scheduling import (
    admin_locations,  # noqa: F401  (registers the locations, rooms and closures admin)
    admin_waitlist,  # noqa: F401  (registers the waitlist admin)
)
from scheduling.admin_series import series_view
from scheduling.appointment_links import appointment_links_for
from scheduling.booking import appointment_book, appointment_move, appointment_status_set, appointment_status_undo
from scheduling.clock import local_date
from scheduling.daysheet import View, day_sheet, provider_week
from scheduling.exceptions import BookingError
from scheduling.forms import AppointmentTypeForm, BookingForm, MoveForm
from scheduling.imports import COLUMNS as APPOINTMENT_COLUMNS
from scheduling.imports import appointments_import, appointments_rows
from scheduling.lead_times import lead_time_format
from scheduling.models import (
    Appointment,
    AppointmentReminder,
    AppointmentStatusChange,
    AppointmentType,
    CalendarFeed,
    Location,
    Series,
    TimeOff,
    WorkingHours,
)
from scheduling.numbers import numbers_by_month
from scheduling.series import appointments_cancel_scoped, appointments_move_scoped
from scheduling.slots import slots_find

SUGGESTIONS = 8
NUMBERS_MONTHS = 12  # months the numbers page shows


def _query_location(request: HttpRequest) -> Location | None:
    """Return the location in ?location=<id> (None when absent); 400 when it is not a location's id."""
    text = request.GET.get("location", "").strip()
    if not text:
        return None
    if not text.isdigit():
        raise BadParameter(f"location={text} is not a location: choose one from the list on the page.")
    return get_object_or_404(Location, pk=int(text))


def _sheet_url(appointment: Appointment) -> str:
    """Return the day sheet of the appointment's location on its local day."""
    location = appointment.room.location
    day = local_date(appointment.start, zone=location.zone)
    return f"{reverse('admin:scheduling_appointment_daysheet')}?date={day:%Y-%m-%d}&location={location.pk}"


def _status_message(changed: list[Appointment], status: str) -> str:
    """Return what a day-sheet action did, in words: the visits by patient and local time, never by "#id"."""
    label = Appointment.Status(status).label.lower()
    if not changed:
        return f"No appointment is {label}."
    first = changed[0]
    what = f"{first.patient.display_name}'s {first}"
    if len(changed) > 1:
        return f"{what} and the {len(changed) - 1} following of the series are now {label}."
    return f"{what} is now {label}."


def _visit_zone(obj: Appointment):
    """Return the zone an appointment's times are read in: its room's location's."""
    return obj.local_zone


def _its_visit_zone(obj: AppointmentReminder | AppointmentStatusChange):
    """Return the zone of the appointment a reminder or status change belongs to."""
    return obj.appointment.local_zone


@admin.register(AppointmentType)
class AppointmentTypeAdmin(admin.ModelAdmin):
    form = AppointmentTypeForm
    list_display = ["name", "code", "default_duration_minutes", "buffer_after_minutes", "allowed_roles", "is_active"]
    list_filter = ["is_active"]
    search_fields = ["name", "code"]

    def get_fields(self, request, obj=None):
        fields = super().get_fields(request, obj)
        if obj is not None and not self.has_change_permission(request, obj):
            # "rooms" is a form-only field (the reverse side of Room.appointment_types): nothing to show read-only.
            return [f for f in fields if f != "rooms"]
        return fields

    def save_related(self, request, form, formsets, change) -> None:
        super().save_related(request, form, formsets, change)
        form.instance.rooms.set(form.cleaned_data["rooms"])


@admin.register(WorkingHours)
class WorkingHoursAdmin(admin.ModelAdmin):
    list_display = ["provider", "weekday", "start_time", "end_time", "where"]
    list_filter = ["provider", "weekday", "location"]
    list_select_related = ["provider__user", "location"]
    fields = ["provider", "location", "weekday", "start_time", "end_time"]

    @admin.display(description="location", ordering="location__name")
    def where(self, obj: WorkingHours) -> str:
        return str(obj.location) if obj.location is not None else "Any location"


@admin.register(TimeOff)
class TimeOffAdmin(CheckedInitialMixin, admin.ModelAdmin):
    list_display = ["provider", "start", "end", "reason"]
    list_filter = ["provider", ("start", admin.DateFieldListFilter)]
    list_select_related = ["provider__user"]


class ReminderInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = AppointmentReminder
    fields = readonly_fields = ("lead_display", "due", "outcome")
    extra = 0
    verbose_name_plural = "reminders"

    @admin.display(description="Before the visit")
    def lead_display(self, obj: AppointmentReminder) -> str:
        return lead_time_format(obj.lead)

    due = staff_datetime_display("due_at", description="Due", zone_of=_its_visit_zone)

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("appointment__room__location")

    @admin.display(description="Outcome")
    def outcome(self, obj: AppointmentReminder) -> str:
        """Return e.g. "Sent 2026-11-28 09:00 (queued: sms)" or "Withdrawn: appointment moved" (the visit's clock)."""
        text = obj.get_status_display()
        if obj.sent_at is not None:
            text += f" {staff_datetime(obj.sent_at, zone=obj.appointment.local_zone, name_zone=True)}"
        return f"{text} ({obj.status_reason})" if obj.status_reason else text


class StatusChangeInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = AppointmentStatusChange
    fields = readonly_fields = ("changed", "from_status", "to_status", "changed_by", "reason")
    extra = 0

    changed = staff_datetime_display("changed_at", description="Changed at", zone_of=_its_visit_zone)

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("appointment__room__location", "changed_by")


@admin.register(Appointment)
class AppointmentAdmin(GrowingTableAdminMixin, PickerLabelMixin, admin.ModelAdmin):
    """Appointments are booked through the booking form and changed through the day sheet's actions."""

    list_display = ["when", "patient", "provider", "room", "appointment_type", "status"]
    list_filter = [
        ("start", admin.DateFieldListFilter),
        "provider",
        "status",
        "appointment_type",
        "room__location",
        "room",
    ]
    list_select_related = ["patient", "provider__user", "room__location", "appointment_type"]
    search_fields = ["patient__mrn", "patient__legal_last_name", "patient__legal_first_name"]
    autocomplete_fields = ["patient"]
    date_hierarchy = "start"
    inlines = [StatusChangeInline, ReminderInline]
    fields = (
        "patient",
        "provider",
        "room",
        "appointment_type",
        "start_display",
        "end_display",
        "status",
        "confirmation",
        "reschedule_requested_at_display",
        "cancellation_reason",
        "series",
        "series_occurrence_display",
        "hours_override_by",
        "hours_override_at_display",
        "is_backdated",
        "created_by",
        "created_at_display",
        "notes",
    )
    readonly_fields = [f for f in fields if f != "notes"]
    change_list_template = "admin/scheduling/appointment/change_list.html"

    # Every instant on the change page as staff read it, on the clock of the visit's location (zone named when it
    # is not the clinic's): Django's own style ("Nov. 30, 2026, 9 p.m.") never shows.
    start_display = staff_datetime_display("start", description="Start", zone_of=_visit_zone)
    end_display = staff_datetime_display("end", description="End", zone_of=_visit_zone)
    reschedule_requested_at_display = staff_datetime_display(
        "reschedule_requested_at", description="Patient asked to move it (SMS reply R) at", zone_of=_visit_zone
    )
    series_occurrence_display = staff_datetime_display(
        "series_occurrence", description="Series occurrence it stands for", zone_of=_visit_zone
    )
    hours_override_at_display = staff_datetime_display(
        "hours_override_at", description="Hours override at", zone_of=_visit_zone
    )
    created_at_display = staff_datetime_display("created_at", description="Created at", zone_of=_visit_zone)

    def has_delete_permission(self, request, obj=None) -> bool:
        return False  # appointments are cancelled, never deleted

    @admin.display(description="Confirmed")
    def confirmation(self, obj: Appointment) -> str:
        return obj.confirmation_text or "Not confirmed"

    def save_model(self, request, obj, form, change) -> None:
        # Only the notes are editable here; times and statuses go through the booking service.
        obj.save(update_fields=["notes", "updated_at"])

    def get_urls(self):
        own = [
            path("book/", self.admin_site.admin_view(self.book_view), name="scheduling_appointment_book"),
            path("day-sheet/", self.admin_site.admin_view(self.day_sheet_view), name="scheduling_appointment_daysheet"),
            path("week/", self.admin_site.admin_view(self.week_view), name="scheduling_appointment_week"),
            path("numbers/", self.admin_site.admin_view(self.numbers_view), name="scheduling_appointment_numbers"),
            path("import/", self.admin_site.admin_view(self.import_view), name="scheduling_appointment_import"),
            path(
                "series/",
                self.admin_site.admin_view(lambda request: series_view(self, request)),
                name="scheduling_appointment_series",
            ),
            path("<int:pk>/move/", self.admin_site.admin_view(self.move_view), name="scheduling_appointment_move"),
            path(
                "<int:pk>/status/",
                self.admin_site.admin_view(require_POST(self.status_view)),
                name="scheduling_appointment_status",
            ),
            path(
                "<int:pk>/status/confirm/",
                self.admin_site.admin_view(require_POST(self.status_confirm_view)),
                name="scheduling_appointment_confirm_status",
            ),
            path(
                "<int:pk>/status/undo/",
                self.admin_site.admin_view(require_POST(self.status_undo_view)),
                name="scheduling_appointment_undo_status",
            ),
        ]
        return own + super().get_urls()

    @admin.display(description="start", ordering="start")
    def when(self, obj: Appointment) -> str:
        """Return the start on the clock of the visit's location (its zone named when it is not the clinic's)."""
        return staff_datetime(obj.start, zone=obj.local_zone, name_zone=True)

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        response = super().render_change_form(
            request,
            context
            | (
                {"appointment_links": appointment_links_for(appointments=[obj], user=request.user).get(obj.pk, [])}
                if obj is not None
                else {}
            ),
            add,
            change,
            form_url,
            obj,
        )
        if obj is not None:
            # Anything else the page dates (the admin's own widgets and scripts) on the clock of the visit's location.
            with timezone.override(obj.local_zone):
                response.render()  # type: ignore[attr-defined]  # the admin change form is a TemplateResponse
        return response

    def history_view(self, request, object_id, extra_context=None):
        response = super().history_view(request, object_id, extra_context)
        obj = self.get_object(request, object_id)
        if obj is not None and hasattr(response, "render"):
            with timezone.override(obj.local_zone):  # each change on the clock of the visit's location
                response.render()
        return response

    def add_view(self, request, form_url="", extra_context=None):
        if not self.has_add_permission(request):
            raise PermissionDenied  # refused here, not after a redirect
        return HttpResponseRedirect(reverse("admin:scheduling_appointment_book"))

    def import_view(self, request: HttpRequest) -> HttpResponse:
        """Onboarding: future appointments from the previous system (CSV), previewed, then booked all or none."""
        return import_view(
            self,
            request,
            title="Import appointments",
            rows=lambda name, content: appointments_rows(content=content),
            run=appointments_import,
            formats=(
                "A CSV of future appointments; provider by username or NPI, room by name, visit type by code, "
                "start in clinic time (2026-12-07 10:30) unless it carries an offset."
            ),
            columns=APPOINTMENT_COLUMNS,
            done_url="admin:scheduling_appointment_changelist",
        )

    def book_view(self, request: HttpRequest) -> HttpResponse:
        """Book one appointment; on a conflict show the message and the slot finder's suggestions."""
        if not self.has_add_permission(request):
            raise PermissionDenied
        allow_override = is_clinic_admin(request.user)
        data = None
        if request.method == "POST":
            data = request.POST.copy()
            chosen = data.pop("suggestion", [None])[0]
            if chosen:  # "2026-11-30T10:30|provider id|room id", one click on a suggested slot
                data["start"], data["provider"], data["room"] = chosen.split("|")
        initial = initial_check(BookingForm, request.GET.dict())
        form = BookingForm(data, initial=initial, allow_override=allow_override)
        suggestions = []
        if data is not None and form.is_valid():
            cd = form.cleaned_data
            try:
                appointment = appointment_book(
                    patient=cd["patient"],
                    provider=cd["provider"],
                    room=cd["room"],
                    appointment_type=cd["appointment_type"],
                    start=cd["start"],
                    notes=cd["notes"],
                    override_hours=cd.get("override_hours", False),
                    by=request_user(request),
                )
            except BookingError as exc:
                form.add_error(None, exc.message)
                suggestions = self._suggestions(cd)
            except ValidationError as exc:
                for field, errors in exc.message_dict.items():
                    form.add_error(field if field in form.fields else None, errors)
            except PermissionDenied as exc:
                form.add_error("override_hours" if "override_hours" in form.fields else None, str(exc))
            else:
                messages.success(
                    request,
                    f"Booked {appointment.appointment_type} for {appointment.patient} at {appointment.local_when} "
                    f"({appointment.room.location}).",
                )
                return HttpResponseRedirect(_sheet_url(appointment))
        context = admin_page_context(self, request, title="Book an appointment", form=form, suggestions=suggestions)
        return TemplateResponse(request, "admin/scheduling/appointment/book.html", context)

    def _suggestions(self, cd: dict, exclude_ids: frozenset[int] = frozenset()) -> list:
        """Return free slots from the requested time on, in time order, keeping the provider, room and location asked.

        The room asked for is kept when it can host the visit; otherwise (or when it has nothing free
        that week) the search widens to the other rooms of the same location, never to another provider
        or location without the user choosing it.
        """
        requested = cd["start"]
        room = cd["room"]
        day = local_date(requested, zone=room.location.zone)  # the week from the requested day at that location
        search = {
            "appointment_type": cd["appointment_type"],
            "first_day": day,
            "last_day": day + dt.timedelta(days=6),
            "provider": cd["provider"],
            "patient": cd["patient"],
            "exclude_ids": exclude_ids,
        }
        slots = slots_find(room=room, **search) if room.can_host(cd["appointment_type"]) else []
        later = [s for s in slots if s.start >= requested]
        if not later:
            later = [s for s in slots_find(location=room.location, **search) if s.start >= requested]
        later = later[:SUGGESTIONS]  # slots_find returns them in time order: the nearest later one first
        # The value is the slot's wall time at its room's location: the form reads it on that clock.
        return [
            (s, f"{s.start.astimezone(s.room.location.zone):%Y-%m-%dT%H:%M}|{s.provider.pk}|{s.room.pk}") for s in later
        ]

    def day_sheet_view(self, request: HttpRequest) -> HttpResponse:
        """Show one day, a column per provider (or per room), with the front-desk actions."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        location = _query_location(request)
        today = local_date(timezone.now(), zone=location.zone if location else None)
        day = query_date(request.GET, "date") or today
        view: View = "room" if request.GET.get("view") == "room" else "provider"
        columns = day_sheet(day=day, view=view, by=request_user(request), location=location)
        links = appointment_links_for(appointments=[a for c in columns for a in c.appointments], user=request.user)
        for column in columns:
            for appointment in column.appointments:
                appointment.links = links.get(appointment.pk, [])  # type: ignore[attr-defined]
        context = admin_page_context(
            self,
            request,
            title=f"Day sheet {day:%A %Y-%m-%d}" + (f", {location}" if location else ""),
            day=day,
            view=view,
            columns=columns,
            previous_day=day - dt.timedelta(days=1),
            next_day=day + dt.timedelta(days=1),
            today=today,
            can_change=self.has_change_permission(request),
            location=location,
            locations=Location.objects.filter(is_active=True),
            zone=location.time_zone if location else settings.TIME_ZONE,
        )
        return TemplateResponse(request, "admin/scheduling/appointment/day_sheet.html", context)

    def week_view(self, request: HttpRequest) -> HttpResponse:
        """Show one provider's week, Monday to Sunday, a column per day."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        location = _query_location(request)
        day = query_date(request.GET, "date") or local_date(timezone.now(), zone=location.zone if location else None)
        text = request.GET.get("provider", "")
        providers = Provider.objects.select_related("user")
        if text and not text.isdigit():
            raise BadParameter(f"provider={text} is not a provider: open the week from the day sheet.")
        if text:
            provider = get_object_or_404(providers, pk=int(text))
        else:  # the signed-in provider's own week, else the first active provider's
            provider = get_object_or_404(
                providers.filter(is_active=True).order_by(Case(When(user=request.user, then=0), default=1), "pk")[:1]
            )
        monday = day - dt.timedelta(days=day.weekday())
        context = admin_page_context(
            self,
            request,
            title=f"Week of {provider}, {monday:%a %d %b %Y}" + (f", {location}" if location else ""),
            provider=provider,
            columns=provider_week(provider=provider, day=day, location=location),
            location=location,
            locations=Location.objects.filter(is_active=True),
            zone=location.time_zone if location else settings.TIME_ZONE,
            monday=monday,
            previous_week=monday - dt.timedelta(days=7),
            next_week=monday + dt.timedelta(days=7),
        )
        return TemplateResponse(request, "admin/scheduling/appointment/week.html", context)

    def numbers_view(self, request: HttpRequest) -> HttpResponse:
        """Show the confirmation and no-show rates of the last twelve months (clinic time), newest first."""
        if not request.user.has_perm("scheduling.view_appointment_numbers"):
            raise PermissionDenied
        now = timezone.now()
        this_month = timezone.localdate(now).replace(day=1)
        months_back = this_month.year * 12 + this_month.month - 1 - (NUMBERS_MONTHS - 1)
        first = dt.date(months_back // 12, months_back % 12 + 1, 1)
        rows = numbers_by_month(first_month=first, last_month=this_month, now=now)
        while len(rows) > 1 and not rows[0].visits:
            rows.pop(0)  # months before the clinic's first visit say nothing
        context = admin_page_context(
            self, request, title="Reminders: confirmation and no-show rates", rows=rows[::-1], months=NUMBERS_MONTHS
        )
        return TemplateResponse(request, "admin/scheduling/appointment/numbers.html", context)

    def move_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        """Move one appointment (or it and the following ones of its series); conflicts show suggestions."""
        if not self.has_change_permission(request):
            raise PermissionDenied
        appointment = get_object_or_404(
            Appointment.objects.select_related("patient", "provider__user", "room__location", "appointment_type"), pk=pk
        )
        if not appointment.is_movable:
            messages.error(request, f"A {appointment.get_status_display().lower()} appointment cannot move.")
            return HttpResponseRedirect(reverse("admin:scheduling_appointment_change", args=[pk]))
        data = request.POST.copy() if request.method == "POST" else None
        if data is not None and data.get("suggestion"):
            data["start"], data["provider"], data["room"] = data.pop("suggestion")[0].split("|")
        initial = {
            "start": appointment.local_start.replace(tzinfo=None),  # the wall time at the visit's location
            "provider": appointment.provider,
            "room": appointment.room,
        }
        form = MoveForm(
            data,
            initial=initial,
            in_series=appointment.series_id is not None,
            allow_override=is_clinic_admin(request.user),
        )
        suggestions = []
        if data is not None and form.is_valid():
            cd = form.cleaned_data
            try:
                if cd.get("scope") == "following":
                    moved = appointments_move_scoped(
                        appointment=appointment,
                        scope="following",
                        start=cd["start"],
                        override_hours=cd.get("override_hours", False),
                        by=request_user(request),
                    )
                else:
                    moved = [
                        appointment_move(
                            appointment=appointment,
                            start=cd["start"],
                            provider=cd["provider"],
                            room=cd["room"],
                            override_hours=cd.get("override_hours", False),
                            by=request_user(request),
                        )
                    ]
            except BookingError as exc:
                form.add_error(None, exc.message)
                suggestions = self._suggestions(
                    {**cd, "patient": appointment.patient, "appointment_type": appointment.appointment_type},
                    exclude_ids=frozenset({appointment.pk}),
                )
            except ValidationError as exc:
                for field, errors in exc.message_dict.items():
                    form.add_error(field if field in form.fields else None, errors)
            except PermissionDenied as exc:
                form.add_error(None, str(exc))
            else:
                first = moved[0]
                count = f"{len(moved)} appointments" if len(moved) != 1 else f"{first.appointment_type}"
                messages.success(
                    request,
                    f"Moved {count} for {first.patient.display_name} to {first.local_start:%a %Y-%m-%d %H:%M} "
                    f"({first.room.location}).",
                )
                return HttpResponseRedirect(_sheet_url(first))
        context = admin_page_context(
            self,
            request,
            title=f"Move {appointment} ({appointment.patient})",
            form=form,
            appointment=appointment,
            suggestions=suggestions,
        )
        return TemplateResponse(request, "admin/scheduling/appointment/move.html", context)

    def status_confirm_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        """Ask before a day-sheet action that frees the time or starts the visit; the answer posts to status_view."""
        if not self.has_change_permission(request):
            raise PermissionDenied
        appointment = get_object_or_404(
            Appointment.objects.select_related("patient", "provider__user", "room__location", "appointment_type"), pk=pk
        )
        status = request.POST.get("status", "")
        if status not in Appointment.Status.values:
            messages.error(request, "Choose an action on the day sheet.")
            return HttpResponseRedirect(self._back(request, appointment))
        context = admin_page_context(
            self,
            request,
            title=f"{Appointment.STATUSES[Appointment.Status(status)].action}: are you sure?",
            appointment=appointment,
            status=status,
            label=Appointment.Status(status).label.lower(),
            reason=request.POST.get("reason", ""),
            scope=request.POST.get("scope", ""),
            back=self._back(request, appointment),
            undo_minutes=settings.SCHEDULING_STATUS_UNDO_MINUTES,
        )
        return TemplateResponse(request, "admin/scheduling/appointment/status_confirm.html", context)

    def status_undo_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        """Undo the appointment's last status change (within the undo window) and go back."""
        if not self.has_change_permission(request):
            raise PermissionDenied
        appointment = get_object_or_404(Appointment, pk=pk)
        try:
            undone = appointment_status_undo(appointment=appointment, by=request_user(request))
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        except BookingError as exc:
            messages.error(request, f"Cannot undo: {exc.message}")
        else:
            messages.success(request, f"Undone: the appointment is {undone.get_status_display().lower()} again.")
        return HttpResponseRedirect(self._back(request, appointment))

    def _back(self, request: HttpRequest, appointment: Appointment) -> str:
        back = request.POST.get("next", "")
        if not url_has_allowed_host_and_scheme(back, allowed_hosts={request.get_host()}):
            back = _sheet_url(appointment)
        return back

    def status_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        """Apply one day-sheet action (confirm, check in, complete, cancel, no-show) and go back."""
        if not self.has_change_permission(request):
            raise PermissionDenied
        appointment = get_object_or_404(Appointment, pk=pk)
        status, reason = request.POST.get("status", ""), request.POST.get("reason", "")
        try:
            if status == Appointment.Status.CANCELLED and request.POST.get("scope") == "following":
                changed = appointments_cancel_scoped(
                    appointment=appointment, scope="following", reason=reason, by=request_user(request)
                )
            else:
                changed = [
                    appointment_status_set(
                        appointment=appointment, status=status, reason=reason, by=request_user(request)
                    )
                ]
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            messages.success(request, _status_message(changed, status))
        return HttpResponseRedirect(self._back(request, appointment))


class SeriesAppointmentInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = Appointment
    fields = readonly_fields = ("when", "series_occurrence", "status", "room")

    @admin.display(description="start")
    def when(self, obj: Appointment) -> str:
        return staff_datetime(obj.start, zone=obj.local_zone, name_zone=True)

    extra = 0
    show_change_link = True


@admin.register(Series)
class SeriesAdmin(GrowingTableAdminMixin, admin.ModelAdmin):
    list_display = ["patient", "provider", "appointment_type", "first", "rrule", "created_at"]
    list_select_related = ["patient", "provider__user", "appointment_type", "room__location"]
    readonly_fields = [
        "patient",
        "provider",
        "room",
        "appointment_type",
        "dtstart",
        "rrule",
        "created_by",
        "created_at",
    ]
    inlines = [SeriesAppointmentInline]

    @admin.display(description="first occurrence", ordering="dtstart")
    def first(self, obj: Series) -> str:
        return staff_datetime(obj.dtstart, zone=obj.room.location.zone, name_zone=True)

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        response = super().render_change_form(request, context, add, change, form_url, obj)
        if obj is not None:  # the series repeats the wall time of its room's location: show that clock
            with timezone.override(obj.room.location.zone):
                response.render()  # type: ignore[attr-defined]  # the admin change form is a TemplateResponse
        return response

    def has_add_permission(self, request) -> bool:
        return False  # series are booked through the API's preview/commit

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(CalendarFeed)
class CalendarFeedAdmin(admin.ModelAdmin):
    list_display = ["provider", "created_at", "feed_path"]
    list_select_related = ["provider__user"]
    readonly_fields = ["token", "created_at", "feed_path"]

    @admin.display(description="Feed URL path")
    def feed_path(self, obj: CalendarFeed) -> str:
        if not obj.pk:
            return "-"
        return reverse("scheduling-provider-feed", kwargs={"provider_id": obj.provider_id, "token": obj.token})
