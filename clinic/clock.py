"""The clock rule: times are stored in UTC; people read them in their own zone, written as people write them.

Staff read every date and time in the clinic's zone (settings.TIME_ZONE) through `staff_datetime` /
`staff_date` / `staff_time`; patients read theirs in their own zone through `patient_datetime`, and
phone numbers through `patient_phone`. Machines (API datetime fields, feeds, exports for systems) keep
ISO 8601 with an offset and never go through here.
"""

import contextlib
import datetime as dt
from zoneinfo import ZoneInfo

import phonenumbers
from django.conf import settings

# Staff screens use one unambiguous, sortable form; the weekday helps the front desk.
STAFF_DATE = "%Y-%m-%d"
STAFF_TIME = "%H:%M"
STAFF_DATETIME = f"{STAFF_DATE} {STAFF_TIME}"
# Patients read what they would write themselves: "Fri 25 Dec, 4:30 PM" / "vie 25/12, 16:30".
_WEEKDAYS = {
    "en": ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"],
    "es": ["lun", "mar", "mié", "jue", "vie", "sáb", "dom"],  # "sáb" sends the SMS as UCS-2: counted so
}
_MONTHS_EN = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]


def clinic_tz() -> ZoneInfo:
    """Return the clinic's time zone."""
    return ZoneInfo(settings.TIME_ZONE)


def local_date(instant: dt.datetime) -> dt.date:
    """Return the clinic-local calendar date of an aware instant."""
    return instant.astimezone(clinic_tz()).date()


def local_time(instant: dt.datetime) -> dt.datetime:
    """Return the aware instant as clinic wall time."""
    return instant.astimezone(clinic_tz())


def staff_datetime(instant: dt.datetime | None, *, empty: str = "-") -> str:
    """Return INSTANT as staff read it: clinic wall time, e.g. '2026-11-29 21:30'."""
    return local_time(instant).strftime(STAFF_DATETIME) if instant is not None else empty


def staff_date(value: dt.datetime | dt.date | None, *, empty: str = "-") -> str:
    """Return the clinic-local date of an instant (or a plain calendar date) as staff read it."""
    if value is None:
        return empty
    day = local_date(value) if isinstance(value, dt.datetime) else value
    return day.strftime(STAFF_DATE)


def staff_time(instant: dt.datetime) -> str:
    """Return the clinic wall-clock time of INSTANT, e.g. '21:30'."""
    return local_time(instant).strftime(STAFF_TIME)


def patient_datetime(instant: dt.datetime, *, time_zone: str, language: str) -> str:
    """Return INSTANT in the patient's zone as people write it: 'Fri 25 Dec, 4:30 PM' (en), 'vie 25/12, 16:30' (es)."""
    local = instant.astimezone(ZoneInfo(time_zone))
    if language == "es":
        return f"{_WEEKDAYS['es'][local.weekday()]} {local.day}/{local.month:02d}, {local:%H:%M}"
    hour = local.hour % 12 or 12
    half = "AM" if local.hour < 12 else "PM"
    return f"{_WEEKDAYS['en'][local.weekday()]} {local.day} {_MONTHS_EN[local.month - 1]}, {hour}:{local:%M} {half}"


def patient_phone(number: str, *, patient_number: str = "") -> str:
    """Return NUMBER as the patient dials it: national format inside the patient's country, else international."""
    try:
        parsed = phonenumbers.parse(str(number), None)
    except phonenumbers.NumberParseException:
        return str(number)
    # Compare calling codes, not regions: fictional 555 numbers (the demo's) have no region.
    home = phonenumbers.country_code_for_region(settings.PHONENUMBER_DEFAULT_REGION)
    if patient_number:
        with contextlib.suppress(phonenumbers.NumberParseException):
            home = phonenumbers.parse(str(patient_number), None).country_code or home
    same_country = parsed.country_code == home
    style = phonenumbers.PhoneNumberFormat.NATIONAL if same_country else phonenumbers.PhoneNumberFormat.INTERNATIONAL
    return phonenumbers.format_number(parsed, style)
