"""The waitlist in the admin: who waits for what, in the order they joined, and the offers each was made.

Entries are added through `waitlist_entry_create` and withdrawn with `waitlist_entry_withdraw` (never
deleted); freed slots and offers are read-only records of what the sweep did.
"""

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError

from clinic.admin_tools import GrowingTableAdminMixin, PickerLabelMixin, ReadOnlyAdminMixin, admin_adopt
from clinic.clock import staff_date, staff_datetime
from clinic.row_counts import row_count
from scheduling.models import WEEKDAYS, FreedSlot, WaitlistEntry, WaitlistOffer
from scheduling.waitlist import waitlist_entry_check, waitlist_entry_create, waitlist_entry_withdraw


class WaitlistEntryForm(forms.ModelForm):
    weekdays = forms.TypedMultipleChoiceField(
        choices=WEEKDAYS, coerce=int, required=False, widget=forms.CheckboxSelectMultiple,
        help_text="Days that suit; none ticked: any day.",
    )  # fmt: skip

    class Meta:
        model = WaitlistEntry
        fields = ["patient", "appointment_type", "provider", "location", "weekdays", "earliest_time",
                  "latest_time", "until", "notes"]  # fmt: skip

    def clean(self):
        data = super().clean() or {}
        if self.instance.pk is None and not self.errors:
            request: dict[str, Any] = {name: data.get(name) for name in self.Meta.fields if name != "notes"}
            try:
                waitlist_entry_check(**request)  # the service's rules, each on its field
            except ValidationError as exc:
                for field, problems in exc.message_dict.items():
                    self.add_error(field if field in self.fields else None, problems)
        return data


class WaitlistOfferInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = WaitlistOffer
    extra = 0
    fields = readonly_fields = ("slot_time", "status", "offered", "expires", "answered")
    verbose_name_plural = "offers made"

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("slot__appointment_type", "slot__room__location")

    @admin.display(description="Visit offered (its location's time)")
    def slot_time(self, obj: WaitlistOffer) -> str:
        return str(obj.slot)

    @admin.display(description="Offered")
    def offered(self, obj: WaitlistOffer) -> str:
        return staff_datetime(obj.offered_at)

    @admin.display(description="Open until")
    def expires(self, obj: WaitlistOffer) -> str:
        return staff_datetime(obj.expires_at)

    @admin.display(description="Answered")
    def answered(self, obj: WaitlistOffer) -> str:
        return staff_datetime(obj.answered_at)


@admin.register(WaitlistEntry)
class WaitlistEntryAdmin(GrowingTableAdminMixin, PickerLabelMixin, admin.ModelAdmin):
    """Patients waiting for an earlier visit, first come first offered."""

    form = WaitlistEntryForm
    list_display = ["patient", "wants", "suits", "until_day", "joined", "status", "offers_made"]
    list_filter = ["status", "appointment_type", "location"]
    list_select_related = ["patient", "appointment_type", "provider__user", "location"]
    search_fields = ["patient__mrn", "patient__legal_last_name", "patient__legal_first_name"]
    raw_id_fields = ["patient"]
    actions = ["withdraw"]
    inlines = [WaitlistOfferInline]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(offer_count=row_count(WaitlistOffer.objects.all(), outer="entry"))

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return []
        return ["patient", "appointment_type", "provider", "location", "weekdays", "earliest_time", "latest_time",
                "until", "status", "appointment", "joined", "created_by"]  # fmt: skip

    def get_fields(self, request, obj=None):
        if obj is None:
            return list(WaitlistEntryForm.Meta.fields)
        return [*self.get_readonly_fields(request, obj), "notes"]

    def has_delete_permission(self, request, obj=None):
        return False

    def changelist_view(self, request, extra_context=None):
        title = {"title": "Waitlist: offered in the order patients joined"}
        return super().changelist_view(request, {**title, **(extra_context or {})})

    @admin.display(description="Wants")
    def wants(self, obj: WaitlistEntry) -> str:
        who = f"with {obj.provider}" if obj.provider else "with any provider"
        return f"{obj.appointment_type} {who}, {obj.location}"

    @admin.display(description="Suits")
    def suits(self, obj: WaitlistEntry) -> str:
        return f"{obj.days_label}, {obj.times_label}"

    @admin.display(description="Until", ordering="until")
    def until_day(self, obj: WaitlistEntry) -> str:
        return staff_date(obj.until)

    @admin.display(description="Joined (clinic time)", ordering="created_at")
    def joined(self, obj: WaitlistEntry) -> str:
        return staff_datetime(obj.created_at)

    @admin.display(description="Offers", ordering="offer_count")
    def offers_made(self, obj: WaitlistEntry) -> int:
        return getattr(obj, "offer_count", 0)

    def save_model(self, request, obj, form, change):
        if change:
            obj.save(update_fields=["notes"])
            return
        data = {name: form.cleaned_data.get(name) for name in WaitlistEntryForm.Meta.fields}
        data["notes"] = data.get("notes") or ""
        admin_adopt(obj, waitlist_entry_create(**data, by=request.user))

    @admin.action(description="Withdraw selected entries from the waitlist", permissions=["change"])
    def withdraw(self, request, queryset):
        done = 0
        for entry in queryset:
            try:
                waitlist_entry_withdraw(entry=entry, by=request.user)
                done += 1
            except ValidationError as exc:
                self.message_user(request, f"{entry.patient}: {exc.messages[0]}", messages.WARNING)
        self.message_user(request, f"Withdrew {done} entry(ies).", messages.SUCCESS)


@admin.register(FreedSlot)
class FreedSlotAdmin(GrowingTableAdminMixin, ReadOnlyAdminMixin, admin.ModelAdmin):
    """The times cancellations and moves freed, and what became of each (read-only)."""

    list_display = ["visit", "provider", "room", "status", "freed", "offers_made", "accepted", "status_reason"]
    list_filter = ["status", "appointment_type"]
    list_select_related = ["appointment_type", "provider__user", "room__location"]

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .annotate(
                offer_count=row_count(WaitlistOffer.objects.all(), outer="slot"),
                accepted_count=row_count(WaitlistOffer.objects.filter(status="accepted"), outer="slot"),
            )
        )

    @admin.display(description="Visit (its location's time)", ordering="start")
    def visit(self, obj: FreedSlot) -> str:
        return str(obj)

    @admin.display(description="Freed", ordering="freed_at")
    def freed(self, obj: FreedSlot) -> str:
        return staff_datetime(obj.freed_at)

    @admin.display(description="Offers")
    def offers_made(self, obj: FreedSlot) -> int:
        return getattr(obj, "offer_count", 0)

    @admin.display(description="Taken", boolean=True)
    def accepted(self, obj: FreedSlot) -> bool:
        return bool(getattr(obj, "accepted_count", 0))
