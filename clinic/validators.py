"""Validators for identifiers and settings-like values stored on core records."""

import functools
import zoneinfo

from django.core.exceptions import ValidationError


def luhn_is_valid(digits: str) -> bool:
    """Return True when DIGITS (a string of 0-9) passes the Luhn check."""
    total = 0
    for index, char in enumerate(reversed(digits)):
        value = int(char)
        if index % 2 == 1:
            value *= 2
            if value > 9:
                value -= 9
        total += value
    return total % 10 == 0


def validate_npi(value: str) -> None:
    """Validate a US National Provider Identifier: 10 digits, Luhn check digit over prefix 80840."""
    if len(value) != 10 or not value.isdigit():
        raise ValidationError("An NPI is exactly 10 digits.", code="npi_format")
    if not luhn_is_valid("80840" + value):
        raise ValidationError("This NPI's check digit is wrong.", code="npi_check_digit")


@functools.cache
def _time_zones() -> frozenset[str]:
    # available_timezones() walks the tz database on disk (about 35 ms): once per process, not per
    # patient saved (an import of 100,000 patients spent most of its time here).
    return frozenset(zoneinfo.available_timezones())


def validate_time_zone(value: str) -> None:
    """Validate an IANA time zone name such as America/New_York."""
    if value not in _time_zones():
        raise ValidationError(f"{value!r} is not an IANA time zone.", code="time_zone")
