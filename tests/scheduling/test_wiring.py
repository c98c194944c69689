"""What scheduling contributes to the core, registered from SchedulingConfig.ready()."""

from django.conf import settings
from drf_spectacular.settings import spectacular_settings

from clinic.admin_index import _shortcuts


def test_the_schema_names_scheduling_enums_without_the_core_settings_naming_them():
    assert "AppointmentStatusEnum" in spectacular_settings.ENUM_NAME_OVERRIDES
    assert "ConsentMethodEnum" in spectacular_settings.ENUM_NAME_OVERRIDES
    assert set(settings.SPECTACULAR_SETTINGS["ENUM_NAME_OVERRIDES"]) == {"ConsentMethodEnum"}


def test_scheduling_registers_its_admin_shortcuts():
    assert {s.label: (s.url_name, s.permission) for s in _shortcuts.values() if s.position < 30} == {
        "Day sheet": ("admin:scheduling_appointment_daysheet", "scheduling.view_appointment"),
        "Book a visit": ("admin:scheduling_appointment_book", "scheduling.add_appointment"),
    }
