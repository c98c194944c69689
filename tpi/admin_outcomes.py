"""Outcomes in the admin: the clinic's results, the "consider repeat" list, the patient's pain chart.

- Results (`/admin/tpi/procedureoutcome/`): the dashboard of `tpi.outcome_stats`, for whoever holds
  `tpi.view_procedureoutcome` (providers: their own; `tpi.view_all_outcomes` and clinic admins: all),
  with date, location and provider filters and a CSV download (`?format=csv`).
- Consider repeat (`/admin/tpi/procedureoutcome/repeat/`): `tpi.repeat.repeat_candidates`, the latest
  REPEAT_LIST_ROWS answers (a note says when there are more), in the same queries at any size.
- The patient page gets "Pain over time" (chart, table, sites by count) as one more inline, added
  from here: the core's PatientAdmin never names tpi.
"""

import csv
import datetime as dt
from collections.abc import Callable
from typing import Any, cast

from django import forms
from django.conf import settings
from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

from clinic.admin import PatientAdmin
from clinic.admin_tools import GrowingTableAdminMixin, admin_page_context
from clinic.clock import staff_date, staff_datetime
from clinic.models import Provider
from scheduling.models import Location
from tpi.models import Procedure, ProcedureOutcome, RepeatOffer
from tpi.outcome_charts import (
    METHOD_LABELS,
    POINT_LABELS,
    patient_pain_chart,
    patient_pain_table,
    procedure_pain_line,
    relief_summary,
)
from tpi.outcome_stats import OutcomeFilters, dashboard_csv_rows, outcomes_dashboard, results_see_all
from tpi.outcomes import outcome_of, patient_outcomes, patient_site_counts, procedure_pain_timeline
from tpi.repeat import repeat_candidates
from tpi.repeat_offers import repeat_offer_of, repeat_offer_summary

# The "consider repeat" page shows at most this many procedures, the latest answers first (one query, LIMIT).
REPEAT_LIST_ROWS = 200


class ResultsFilterForm(forms.Form):
    start = forms.DateField(required=False, label="From", widget=forms.DateInput(attrs={"type": "date"}))
    end = forms.DateField(required=False, label="To", widget=forms.DateInput(attrs={"type": "date"}))
    location = forms.ModelChoiceField(queryset=Location.objects.none(), required=False, empty_label="All locations")
    provider = forms.ModelChoiceField(queryset=Provider.objects.none(), required=False, empty_label="All providers")

    def __init__(self, *args: Any, see_all: bool, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ModelChoiceField, self.fields["location"]).queryset = Location.objects.order_by("name")
        if see_all:
            injectors = Provider.objects.exclude(role=Provider.Role.MASSAGE_THERAPIST).select_related("user")
            provider = cast(forms.ModelChoiceField, self.fields["provider"])
            provider.queryset = injectors.order_by("user__last_name", "user__first_name")
        else:
            del self.fields["provider"]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("start") and data.get("end") and data["start"] > data["end"]:
            self.add_error("end", "The end date is before the start date.")
        return data

    def filters(self) -> OutcomeFilters:
        data = self.cleaned_data if self.is_valid() else {}
        location, provider = data.get("location"), data.get("provider")
        return OutcomeFilters(
            start=data.get("start"),
            end=data.get("end"),
            location_id=location.pk if location else None,
            provider_id=provider.pk if provider else None,
        )


@admin.register(ProcedureOutcome)
class ProcedureOutcomeAdmin(GrowingTableAdminMixin, admin.ModelAdmin):
    """The results dashboard in place of a change list; nothing is added, changed or deleted here."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def get_urls(self) -> list:
        view = self.admin_site.admin_view
        # Only the dashboard and the list: a result has no page of its own (the procedure page shows it).
        dashboard = [p for p in super().get_urls() if p.name == "tpi_procedureoutcome_changelist"]
        return [path("repeat/", view(self.repeat_view), name="tpi_procedureoutcome_repeat"), *dashboard]

    def changelist_view(self, request: HttpRequest, extra_context: dict | None = None) -> HttpResponse:
        if not self.has_view_permission(request):
            return super().changelist_view(request, extra_context)  # Django's own 403
        see_all = results_see_all(request.user)
        now = timezone.now()
        query: Any = request.GET
        if not query:  # the first visit opens on the recent past; "Show" with empty dates means all time
            default_start = timezone.localdate(now) - dt.timedelta(days=settings.TPI_OUTCOMES_DASHBOARD_DEFAULT_DAYS)
            query = {"start": default_start.isoformat()}
        form = ResultsFilterForm(query, see_all=see_all)
        board = outcomes_dashboard(user=request.user, filters=form.filters(), now=now)
        if request.GET.get("format") == "csv":
            response = HttpResponse(content_type="text/csv; charset=utf-8")
            response["Content-Disposition"] = f'attachment; filename="results-{staff_date(now)}.csv"'
            csv.writer(response).writerows(dashboard_csv_rows(board))
            return response
        csv_params = request.GET.copy()
        csv_params.update({k: v for k, v in query.items() if k not in csv_params})
        csv_params["format"] = "csv"
        context = admin_page_context(
            self,
            request,
            title="Results: did the injections help?",
            form=form,
            board=board,
            see_all=see_all,
            csv_query=csv_params.urlencode(),
            settings_text=_definitions(),
            steroid_window_end=board.steroid.window_end,
        )
        return TemplateResponse(request, "admin/tpi/procedureoutcome/dashboard.html", context)

    def repeat_view(self, request: HttpRequest) -> HttpResponse:
        if not self.has_view_permission(request):
            return super().changelist_view(request)
        now = timezone.now()
        # One row past the cap tells whether there are more, without counting them.
        candidates = list(repeat_candidates(user=request.user, now=now)[: REPEAT_LIST_ROWS + 1])
        # Each link resolved once, then filled per row (reverse() for each of 200 rows is a tenth of the page).
        procedure_url = _change_url("admin:tpi_procedure_change")
        patient_url = _change_url("admin:clinic_patient_change")
        rows = [
            {
                "procedure": p,
                "url": procedure_url(p.pk),
                "patient_url": patient_url(p.patient_id),
                "patient": p.patient.display_name,
                "provider": str(p.provider),
                "performed": staff_date(p.performed_at),
                "answered": staff_datetime(getattr(p, "reassessment_at", None)),
                "scores": f"{p.pain_before} before, {getattr(p, 'pain_reassessment', '-')} at one month",
                "offer": repeat_offer_summary(_offer(p)) or "Not offered by SMS.",
            }
            for p in candidates[:REPEAT_LIST_ROWS]
        ]
        context = admin_page_context(
            self,
            request,
            title="Consider repeat: relief has worn off",
            rows=rows,
            more=len(candidates) > REPEAT_LIST_ROWS,
        )
        return TemplateResponse(request, "admin/tpi/procedureoutcome/repeat.html", context)


def _change_url(name: str) -> Callable[[int], str]:
    """Return a function giving the admin change page NAME of an object id: reverse() once, not per row."""
    marker = "0"
    head, tail = reverse(name, args=[marker]).rsplit(f"/{marker}/", 1)
    return lambda pk: f"{head}/{pk}/{tail}"


def _offer(procedure: Procedure) -> RepeatOffer | None:
    """Return the procedure's repeat offer, fetched with it (select_related), or None."""
    try:
        return procedure.repeat_offer
    except RepeatOffer.DoesNotExist:
        return None


def _definitions() -> str:
    from django.conf import settings

    return (
        f"Responder: pain down at least {settings.TPI_OUTCOMES_RESPONDER_PERCENT}% and at least "
        f"{settings.TPI_OUTCOMES_RESPONDER_MIN_POINTS} points from the score before the procedure; substantial: "
        f"at least {settings.TPI_OUTCOMES_SUBSTANTIAL_PERCENT}%. Relief wears off at the first answer back at "
        f"{settings.TPI_OUTCOMES_RELIEF_WORN_OFF_PERCENT}% of the score before or more; without one it is counted "
        "as still on at the last answer (censored). 95% intervals are Wilson score intervals."
    )


def sites_by_count_html(counts: dict[tuple[int, str], int]) -> SafeString:
    """Return the sites injected over time as a list, most often first (until the body map shades them)."""
    from tpi.models import Injection, TriggerPointSite

    if not counts:
        return format_html("<p>{}</p>", "No sites injected yet.")
    sites = TriggerPointSite.objects.in_bulk({site_id for site_id, _ in counts})
    sides = dict(Injection.Laterality.choices)
    rows = sorted(counts.items(), key=lambda item: (-item[1], sites[item[0][0]].name, item[0][1]))
    items = [
        (
            sites[site_id].get_body_region_display(),
            sites[site_id].name,
            sides.get(side, side).lower(),
            f"{n} time{'s' if n != 1 else ''}",
        )
        for (site_id, side), n in rows
    ]
    return format_html(
        '<ul class="site-counts">{}</ul>',
        format_html_join("", "<li>{}: {} ({}): {}</li>", items),
    )


class PatientPainInline(admin.TabularInline):
    """The patient's pain over time on the patient page: chart, table and sites by count (read-only).

    An inline only to reach the core's patient page from tpi; its template draws the chart and
    ignores the formset rows (the queryset is empty).
    """

    model = Procedure
    template = "admin/tpi/patient_pain_inline.html"
    verbose_name_plural = "pain over time"
    extra = 0
    max_num = 0
    can_delete = False
    fields = ["pain_before"]  # the formset has no rows (see get_queryset); the template draws the chart

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # Shown when an existing patient's page is read (GET): a form POST then needs no management form
        # from this inline, and the add page has no pain to chart.
        return request.method == "GET" and obj is not None and request.user.has_perm("tpi.view_injection")

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def get_queryset(self, request: HttpRequest) -> QuerySet[Procedure]:
        return Procedure.objects.none()

    def get_formset(self, request: HttpRequest, obj: Any = None, **kwargs: Any) -> Any:
        formset = super().get_formset(request, obj, **kwargs)
        if obj is None or obj.pk is None:
            # The template reads the chart from the formset class; Django's stubs know no such attribute.
            formset.pain = None  # type: ignore[attr-defined]
            return formset
        from tpi.access import procedures_visible

        visible = procedures_visible(user=request.user, queryset=Procedure.objects.filter(patient=obj))
        readable = set(visible.values_list("pk", flat=True))
        rows = [row for row in patient_outcomes(obj) if row.procedure.pk in readable]
        # As above: the chart travels on the formset class to the inline's template.
        formset.pain = {  # type: ignore[attr-defined]
            "chart": patient_pain_chart(rows),
            "table": patient_pain_table(rows),
            "sites": sites_by_count_html(patient_site_counts(obj, procedure_ids=readable)),
        }
        return formset


def procedure_outcome_html(procedure: Procedure) -> SafeString:
    """Return the procedure page's outcome: its pain line next to its sites, the responder status, the repeat offer."""
    from tpi.models import Injection

    points = procedure_pain_timeline(procedure)
    summary = repeat_offer_summary(repeat_offer_of(procedure)) if procedure.is_signed else ""
    injections = Injection.objects.filter(procedure=procedure).select_related("site").order_by("id")
    sites = [
        (i.site.name, i.get_laterality_display().lower(), " with steroid" if i.steroid_agent else "")
        for i in injections
    ]
    return format_html(
        '<div class="procedure-outcome" style="display:flex;flex-wrap:wrap;gap:1em;align-items:flex-start">'
        '<div style="flex:1 1 300px;max-width:440px">{}</div>'
        '<div style="flex:1 1 200px;text-align:left"><strong>Sites</strong>'
        '<ul style="margin:.3em 0;padding-left:1.2em;list-style:disc">{}</ul><p>{}</p>{}'
        '<details><summary>Scores as a table</summary><table><thead><tr><th scope="col">Score taken</th>'
        '<th scope="col">Pain 0-10</th><th scope="col">When (clinic time)</th><th scope="col">How</th></tr></thead>'
        "<tbody>{}</tbody></table></details></div></div>",
        procedure_pain_line(procedure, points),
        format_html_join("", "<li>{} ({}){}</li>", sites),
        relief_summary(outcome_of(procedure)) if procedure.is_signed else "Outcome after signing.",
        format_html('<p class="repeat-offer">{}</p>', summary) if summary else "",
        format_html_join(
            "",
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            [
                (
                    POINT_LABELS.get(p.label, p.label),
                    "-" if p.score is None else p.score,
                    staff_datetime(p.at) if p.score is not None else "-",
                    METHOD_LABELS.get(p.method, "-") if p.score is not None else "-",
                )
                for p in points
            ],
        ),
    )


# tpi depends on clinic, never the reverse: the patient page learns about pain scores from here.
PatientAdmin.inlines = [*PatientAdmin.inlines, PatientPainInline]
