"""Property tests of the recurrence input (scheduling.series.series_occurrences): any text gives either
occurrences that keep the first visit's local time, or a 400-style ValidationError on `rrule`."""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import ValidationError
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from scheduling.series import series_occurrences

NEW_YORK = ZoneInfo("America/New_York")
# 10:30 in New York on the Friday before the autumn DST change: many rules cross it.
DTSTART = dt.datetime(2026, 10, 30, 10, 30, tzinfo=NEW_YORK)
LIMIT = 52

RULE_PARTS = st.fixed_dictionaries(
    {"FREQ": st.sampled_from(["DAILY", "WEEKLY", "MONTHLY"]), "INTERVAL": st.integers(1, 8)},
    optional={
        "COUNT": st.integers(1, 80),
        "UNTIL": st.dates(dt.date(2026, 10, 1), dt.date(2028, 12, 31)).map(lambda d: d.strftime("%Y%m%dT235959")),
        "BYDAY": st.sampled_from(["MO", "TU,TH", "FR", "SA,SU"]),
    },
)


@pytest.fixture(autouse=True)
def _clinic(settings):
    settings.TIME_ZONE = "America/New_York"
    settings.SCHEDULING_SERIES_MAX_OCCURRENCES = LIMIT


def occurrences_or_error(rule: str):
    try:
        return series_occurrences(dtstart=DTSTART, rrule=rule)
    except ValidationError as error:
        fields = list(error.message_dict)
    assert fields == ["rrule"]
    return None


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.text(max_size=80))
def test_any_text_is_occurrences_or_an_error_naming_the_rule(text):
    occurrences_or_error(text)  # anything else (a crash, another field) fails the test


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(RULE_PARTS)
def test_well_formed_rules_keep_the_local_time_and_stay_bounded(parts):
    rule = ";".join(f"{key}={value}" for key, value in parts.items())

    occurrences = occurrences_or_error(rule)

    if ("COUNT" in parts) == ("UNTIL" in parts):
        assert occurrences is None  # an endless rule, or COUNT with UNTIL (RFC 5545), is refused
        return
    if occurrences is None:
        return  # too many occurrences, or none (UNTIL before the start): refused with a reason
    assert 1 <= len(occurrences) <= LIMIT
    assert occurrences == sorted(set(occurrences))
    assert all(o.tzinfo is not None and o >= DTSTART for o in occurrences)
    assert {o.astimezone(NEW_YORK).time() for o in occurrences} == {dt.time(10, 30)}
    if "COUNT" in parts and parts["COUNT"] <= LIMIT:
        assert len(occurrences) == parts["COUNT"]


def test_count_with_until_is_refused_with_the_reason():
    with pytest.raises(ValidationError) as error:
        series_occurrences(dtstart=DTSTART, rrule="FREQ=WEEKLY;COUNT=3;UNTIL=20261231T000000")

    assert error.value.message_dict == {"rrule": ["Give COUNT or UNTIL, not both (RFC 5545)."]}
