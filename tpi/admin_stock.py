"""Admin for the clinic's stocked anaesthetic lots (clinic admins keep the list; providers read it)."""

from django.contrib import admin
from django.utils import timezone

from clinic.clock import local_date
from tpi.models import StockLot


class CurrentFilter(admin.SimpleListFilter):
    title = "offered as quick pick"
    parameter_name = "current"

    def lookups(self, request, model_admin):
        return [("yes", "Yes (active, not expired)"), ("no", "No")]

    def queryset(self, request, queryset):
        current = StockLot.objects.current(on=local_date(timezone.now())).values("pk")
        if self.value() == "yes":
            return queryset.filter(pk__in=current)
        if self.value() == "no":
            return queryset.exclude(pk__in=current)
        return queryset


@admin.register(StockLot)
class StockLotAdmin(admin.ModelAdmin):
    list_display = ["lot_number", "agent", "concentration_percent", "expires_on", "is_active", "quick_pick"]
    list_filter = [CurrentFilter, "agent", "is_active"]
    search_fields = ["lot_number"]
    fields = ["agent", "concentration_percent", "lot_number", "expires_on", "is_active"]

    def has_delete_permission(self, request, obj=None):
        return False  # a lot once recorded on an injection stays traceable: untick "active" instead

    @admin.display(description="offered now", boolean=True)
    def quick_pick(self, obj):
        return obj.is_active and obj.expires_on >= local_date(timezone.now())
