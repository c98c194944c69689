"""The admin's two-step series booking: preview every occurrence, choose alternatives, commit all or none."""

import datetime as dt
from zoneinfo import ZoneInfo

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse

from clinic.accounts.actors import request_user
from clinic.admin_tools import admin_page_context
from scheduling.clock import localize
from scheduling.exceptions import BookingError
from scheduling.forms import SeriesForm
from scheduling.series import SeriesChoice, series_commit, series_preview

WALL = "%Y-%m-%dT%H:%M"


def _default_choice(preview) -> str:
    if preview.status == "free":
        return "planned"
    if preview.alternatives:
        slot = preview.alternatives[0]
        return slot.start.astimezone(slot.room.location.zone).strftime(WALL)
    return "skip"


def _choices(request: HttpRequest, previews, *, zone: ZoneInfo) -> list[SeriesChoice]:
    choices = []
    for index, preview in enumerate(previews):
        value = request.POST.get(f"choice-{index}", "skip")
        if value == "skip":
            continue
        if value == "planned":
            choices.append(SeriesChoice(occurrence=preview.occurrence))
            continue
        try:
            start = localize(dt.datetime.strptime(value, WALL), zone=zone)  # noqa: DTZ007  (the room's wall time)
        except ValueError as exc:
            raise ValidationError({"choices": f"Not a time: {value!r}."}) from exc
        choices.append(SeriesChoice(occurrence=preview.occurrence, start=start))
    return choices


def series_view(model_admin, request: HttpRequest) -> HttpResponse:
    """Step 1 (preview) writes nothing; step 2 (commit) books the chosen occurrences atomically."""
    if not model_admin.has_add_permission(request):
        raise PermissionDenied
    form = SeriesForm(request.POST if request.method == "POST" else None)
    rows = []
    if request.method == "POST" and form.is_valid():
        names = ("patient", "provider", "room", "appointment_type", "dtstart", "rrule")
        plan = {name: form.cleaned_data[name] for name in names}
        try:
            previews = series_preview(**plan)
            if request.POST.get("step") == "commit":
                series = series_commit(
                    **plan,
                    choices=_choices(request, previews, zone=plan["room"].location.zone),
                    notes=form.cleaned_data["notes"],
                    by=request_user(request),
                )
                count = series.appointments.count()
                messages.success(request, f"Booked a series of {count} appointment{'s' * (count != 1)}.")
                return HttpResponseRedirect(reverse("admin:scheduling_series_change", args=[series.pk]))
        except ValidationError as exc:
            for field, errors in exc.message_dict.items():
                # A rule built from "every N weeks" is the user's words, not the RRULE field's.
                field = "times" if field == "rrule" and not request.POST.get("rrule") else field
                form.add_error(field if field in form.fields else None, errors)
            previews = []
        except BookingError as exc:
            form.add_error(None, f"Nothing was booked. {exc.message}")
            previews = series_preview(**plan)  # show the current state again
        rows = [
            {
                "index": index,
                "preview": preview,
                "chosen": request.POST.get(f"choice-{index}") or _default_choice(preview),
                "alternatives": [
                    (s.start.astimezone(s.room.location.zone).strftime(WALL), s) for s in preview.alternatives
                ],
            }
            for index, preview in enumerate(previews)
        ]
    zone = form.cleaned_data["room"].location.time_zone if rows else None
    context = admin_page_context(model_admin, request, title="Book a recurring series", form=form, rows=rows, zone=zone)
    return TemplateResponse(request, "admin/scheduling/appointment/series.html", context)
