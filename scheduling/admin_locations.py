"""Clinic admins' setup of places: locations with opening hours, rooms and what they host, closures."""

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse

from clinic.admin_tools import CheckedInitialMixin, admin_page_context
from scheduling.closures import closure_affected
from scheduling.models import Closure, Location, OpeningHours, Room


class OpeningHoursInline(admin.TabularInline):
    model = OpeningHours
    extra = 0


class RoomInline(admin.TabularInline):
    model = Room
    fields = ["name", "is_active"]
    extra = 0
    show_change_link = True


@admin.register(Location)
class LocationAdmin(admin.ModelAdmin):
    list_display = ["name", "time_zone", "address", "is_active"]
    list_filter = ["is_active"]
    search_fields = ["name", "address"]
    inlines = [OpeningHoursInline, RoomInline]


@admin.register(Room)
class RoomAdmin(admin.ModelAdmin):
    list_display = ["name", "location", "hosts", "is_active"]
    list_filter = ["is_active", "location", "appointment_types"]
    list_select_related = ["location"]
    search_fields = ["name"]
    fields = ["name", "location", "appointment_types", "is_active"]
    filter_horizontal = ["appointment_types"]

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("appointment_types")

    @admin.display(description="Can host")
    def hosts(self, obj: Room) -> str:
        return ", ".join(str(t) for t in obj.appointment_types.all()) or "nothing yet"


@admin.register(Closure)
class ClosureAdmin(CheckedInitialMixin, admin.ModelAdmin):
    """After a closure is saved, the front desk sees the booked appointments it covers, each with its move page."""

    list_display = ["__str__", "location", "first_day", "last_day", "start", "end", "source"]
    list_filter = ["source", "location", ("first_day", admin.DateFieldListFilter)]
    list_select_related = ["location"]
    search_fields = ["reason"]
    fields = ["location", "first_day", "last_day", "start", "end", "reason", "source"]
    readonly_fields = ["source"]

    def get_urls(self):
        own = [
            path(
                "<int:pk>/affected/",
                self.admin_site.admin_view(self.affected_view),
                name="scheduling_closure_affected",
            )
        ]
        return own + super().get_urls()

    def _to_affected(self, request: HttpRequest, obj: Closure, default: HttpResponse) -> HttpResponse:
        affected = closure_affected(closure=obj)
        if not affected:
            return default
        messages.warning(request, f"{len(affected)} booked appointment(s) fall into this closure: move them.")
        return HttpResponseRedirect(reverse("admin:scheduling_closure_affected", args=[obj.pk]))

    def response_add(self, request, obj, post_url_continue=None):
        return self._to_affected(request, obj, super().response_add(request, obj, post_url_continue))

    def response_change(self, request, obj):
        return self._to_affected(request, obj, super().response_change(request, obj))

    def affected_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        """List the active appointments a closure covers, with a link to each one's move page."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        closure = get_object_or_404(Closure.objects.select_related("location"), pk=pk)
        context = admin_page_context(
            self,
            request,
            title=f"Appointments to move: {closure}",
            closure=closure,
            appointments=closure_affected(closure=closure),
        )
        return TemplateResponse(request, "admin/scheduling/closure/affected.html", context)
