from django import forms
from django.contrib import admin
from django.test import RequestFactory

from clinic.admin_tools import ReadOnlyAdminMixin, admin_adopt, admin_page_context, form_changes, form_values
from scheduling.models import Appointment, AppointmentStatusChange, Room
from tests.factories import RoomFactory, UserFactory
from tpi.admin import FollowUpInline, PatientProcedureInline
from tpi.admin_plans import PlanOccurrenceAdmin, PlanOccurrenceInline


class _DateForm(forms.Form):
    day = forms.DateField(widget=forms.SelectDateWidget)


def test_read_only_admin_offers_no_add_change_or_delete(db):
    class StatusChanges(ReadOnlyAdminMixin, admin.ModelAdmin):
        pass

    model_admin = StatusChanges(AppointmentStatusChange, admin.site)
    request = RequestFactory().get("/")
    request.user = UserFactory(is_superuser=True, is_staff=True)

    assert not model_admin.has_add_permission(request)
    assert not model_admin.has_change_permission(request)
    assert not model_admin.has_delete_permission(request)
    assert model_admin.has_view_permission(request)


def test_the_read_only_records_use_the_mixin():
    for cls in (FollowUpInline, PatientProcedureInline, PlanOccurrenceInline, PlanOccurrenceAdmin):
        assert issubclass(cls, ReadOnlyAdminMixin), cls
        assert "has_change_permission" not in vars(cls), cls


def test_page_context_carries_the_site_the_model_title_media_and_extras(db):
    model_admin = admin.site._registry[Appointment]
    request = RequestFactory().get("/admin/scheduling/appointment/book/")
    request.user = UserFactory(is_superuser=True, is_staff=True)
    form = _DateForm()

    context = admin_page_context(model_admin, request, title="Book", form=form, rows=[1])

    assert context["site_header"] == admin.site.site_header
    assert context["opts"] is Appointment._meta
    assert (context["title"], context["form"], context["rows"]) == ("Book", form, [1])
    assert str(context["media"]) == str(model_admin.media + form.media)
    assert "form" not in admin_page_context(model_admin, request, title="Void")


class _NameForm(forms.Form):
    first = forms.CharField()
    last = forms.CharField()
    note = forms.CharField(required=False)


def test_form_values_and_changes_keep_only_the_named_fields():
    form = _NameForm({"first": "Ada", "last": "Byron", "note": "x"}, initial={"first": "Ada", "last": "King"})
    assert form.is_valid()

    assert form_values(form, ["first", "last", "missing"]) == {"first": "Ada", "last": "Byron"}
    assert form_changes(form, ("first", "last")) == {"last": "Byron"}


def test_admin_adopt_makes_the_unsaved_object_the_created_row(db):
    created = RoomFactory(name="Room 9")
    obj = Room(name="typed in the form")

    admin_adopt(obj, created)

    assert (obj.pk, obj.name, obj._state.adding) == (created.pk, "Room 9", False)
