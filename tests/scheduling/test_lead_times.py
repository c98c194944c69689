"""Reminder lead times: the text staff write, parsed and validated, written back, and the clinic default."""

import datetime as dt

import pytest
from django.core.exceptions import ValidationError

from scheduling.lead_times import lead_time_format, lead_times_format, lead_times_parse, lead_times_validate
from tests.factories import AppointmentTypeFactory

H = dt.timedelta(hours=1)


@pytest.mark.parametrize(
    ("text", "leads"),
    [
        ("24 hours", (24 * H,)),
        ("2 days, 2 hours", (48 * H, 2 * H)),
        ("2 hours, 2 days", (48 * H, 2 * H)),  # longest first
        ("1 day 12 hours", (36 * H,)),
        ("90 minutes", (dt.timedelta(minutes=90),)),
        ("1 week,3d, 4h", (168 * H, 72 * H, 4 * H)),
        ("  2 Hours ", (2 * H,)),
        ("none", ()),
        ("None", ()),
    ],
)
def test_lead_times_parse(text, leads):
    assert lead_times_parse(text) == leads


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("", 'Give lead times such as "24 hours" or "2 days, 2 hours", or "none".'),
        ("soon", "'soon' is not a lead time: write an amount and a unit, e.g. \"2 hours\"."),
        ("2 fortnights", "'fortnights' is not a unit: use minutes, hours, days or weeks."),
        ("2 hours,", "'' is not a lead time: write an amount and a unit, e.g. \"2 hours\"."),
        ("10 minutes", "10 minutes is out of range: a reminder goes between 30 minutes and 30 days before the visit."),
        ("5 weeks", "5 weeks is out of range: a reminder goes between 30 minutes and 30 days before the visit."),
        ("24 hours, 1 day", "The same lead time is given twice."),
        ("1h, 2h, 3h, 4h, 5h, 6h", "At most 5 reminders per visit."),
    ],
)
def test_lead_times_parse_names_the_problem(text, problem):
    with pytest.raises(ValidationError) as caught:
        lead_times_parse(text)
    assert caught.value.messages == [problem]


@pytest.mark.parametrize(
    ("lead", "text"),
    [
        (24 * H, "24 hours"),
        (36 * H, "36 hours"),
        (48 * H, "2 days"),
        (50 * H, "2 days 2 hours"),
        (168 * H, "1 week"),
        (dt.timedelta(minutes=90), "90 minutes"),
        (2 * H, "2 hours"),
    ],
)
def test_lead_time_format_reads_back(lead, text):
    assert lead_time_format(lead) == text
    assert lead_times_parse(text) == (lead,)


def test_lead_times_format_of_none():
    assert lead_times_format(()) == "none"
    assert lead_times_format((48 * H, 2 * H)) == "2 days, 2 hours"


def test_empty_field_is_valid_and_means_the_clinic_default(db, settings):
    lead_times_validate("")
    visit_type = AppointmentTypeFactory(reminder_lead_times="")
    assert visit_type.reminder_leads == (24 * H,)
    settings.SCHEDULING_REMINDER_LEAD_TIMES = "2 days, 2 hours"
    assert visit_type.reminder_leads == (48 * H, 2 * H)
    visit_type.reminder_lead_times = "none"
    assert visit_type.reminder_leads == ()


def test_the_model_field_refuses_a_bad_value(db):
    visit_type = AppointmentTypeFactory.build(code="x", name="X", reminder_lead_times="tomorrow")
    with pytest.raises(ValidationError) as caught:
        visit_type.full_clean()
    assert caught.value.message_dict["reminder_lead_times"] == [
        "'tomorrow' is not a lead time: write an amount and a unit, e.g. \"2 hours\"."
    ]


def test_the_system_check_refuses_a_bad_default(settings):
    from scheduling.checks import scheduling_settings

    assert scheduling_settings(None) == []
    settings.SCHEDULING_REMINDER_LEAD_TIMES = "tomorrow"
    errors = scheduling_settings(None)
    assert [(e.id, e.msg) for e in errors] == [
        (
            "scheduling.E001",
            "SCHEDULING_REMINDER_LEAD_TIMES: 'tomorrow' is not a lead time: "
            'write an amount and a unit, e.g. "2 hours".',
        )
    ]
