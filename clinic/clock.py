"""The clock rule: times are stored in UTC; people read them in their own zone, written as people write them.

Staff read every date and time in the clinic's zone (settings.TIME_ZONE), or in the zone of the
location the record belongs to (pass `zone=`: an appointment is read in its room's location's zone),
through `staff_datetime` / `staff_date` / `staff_time`; patients read theirs in their own zone through
`patient_datetime`, and phone numbers through `patient_phone`. Machines (API datetime fields, feeds,
exports for systems) keep ISO 8601 with an offset and never go through here.
"""

import datetime as dt
import functools
import re
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


Zone = ZoneInfo | str | None  # a zone, its IANA name, or None for the clinic's


def zone_of(zone: Zone = None) -> ZoneInfo:
    """Return ZONE as a ZoneInfo (the clinic's zone when None)."""
    if zone is None:
        return clinic_tz()
    return zone if isinstance(zone, ZoneInfo) else ZoneInfo(zone)


def local_date(instant: dt.datetime, *, zone: Zone = None) -> dt.date:
    """Return the local calendar date of an aware instant in ZONE (default: the clinic's)."""
    return instant.astimezone(zone_of(zone)).date()


def local_time(instant: dt.datetime, *, zone: Zone = None) -> dt.datetime:
    """Return the aware instant as wall time of ZONE (default: the clinic's)."""
    return instant.astimezone(zone_of(zone))


def staff_datetime(instant: dt.datetime | None, *, empty: str = "-", zone: Zone = None, name_zone: bool = False) -> str:
    """Return INSTANT as staff read it: wall time of ZONE (default: the clinic's), e.g. '2026-11-29 21:30'.

    NAME_ZONE adds the zone's abbreviation when ZONE is not the clinic's ('2026-11-29 18:30 PST'), for
    lists that mix locations in different zones.
    """
    if instant is None:
        return empty
    local = local_time(instant, zone=zone)
    text = local.strftime(STAFF_DATETIME)
    if name_zone and zone is not None and zone_of(zone).key != clinic_tz().key:
        text += f" {local:%Z}"
    return text


def staff_date(value: dt.datetime | dt.date | None, *, empty: str = "-", zone: Zone = None) -> str:
    """Return the local date (in ZONE, default the clinic's) of an instant, or a calendar date, as staff read it."""
    if value is None:
        return empty
    day = local_date(value, zone=zone) if isinstance(value, dt.datetime) else value
    return day.strftime(STAFF_DATE)


def staff_time(instant: dt.datetime, *, zone: Zone = None) -> str:
    """Return the wall-clock time of INSTANT in ZONE (default: the clinic's), e.g. '21:30'."""
    return local_time(instant, zone=zone).strftime(STAFF_TIME)


def patient_datetime(instant: dt.datetime, *, time_zone: str, language: str) -> str:
    """Return INSTANT in the patient's zone as people write it: 'Fri 25 Dec, 4:30 PM' (en), 'vie 25/12, 16:30' (es)."""
    local = instant.astimezone(ZoneInfo(time_zone))
    if language == "es":
        return f"{_WEEKDAYS['es'][local.weekday()]} {local.day}/{local.month:02d}, {local:%H:%M}"
    hour = local.hour % 12 or 12
    half = "AM" if local.hour < 12 else "PM"
    return f"{_WEEKDAYS['en'][local.weekday()]} {local.day} {_MONTHS_EN[local.month - 1]}, {hour}:{local:%M} {half}"


def phone_text(phone: object) -> str:
    """Return str(PHONE) for a stored phone number ("" for none), as the phone number field prints it.

    The field prints a valid number in PHONENUMBER_DEFAULT_FORMAT (E.164) and an invalid one as typed; a
    number stored as its own E.164 form (every valid stored number) prints as that either way, so it is
    returned without validating it against every region (the costly part of a sweep's messages).
    """
    if not isinstance(phone, phonenumbers.PhoneNumber):
        return str(phone or "")
    if _is_own_e164(phone):
        return str(phone.raw_input)
    return str(phone)


def _is_own_e164(phone: phonenumbers.PhoneNumber) -> bool:
    raw = phone.raw_input
    return (
        bool(raw)
        and getattr(settings, "PHONENUMBER_DEFAULT_FORMAT", "E164") == "E164"
        and raw == phonenumbers.format_number(phone, phonenumbers.PhoneNumberFormat.E164)
    )


def _calling_code(patient_number: object) -> int | None:
    """Return the calling code of the patient's number (str or stored PhoneNumber), None if it has none."""
    if isinstance(patient_number, phonenumbers.PhoneNumber) and _is_own_e164(patient_number):
        return patient_number.country_code  # what parsing its text again would find
    text = phone_text(patient_number)
    if not text:
        return None
    if _E164_TEXT.fullmatch(text):  # stored text in E.164 form (a sweep reads numbers as text): its prefix says
        for length in (1, 2, 3):
            if (code := int(text[1 : 1 + length])) in phonenumbers.COUNTRY_CODE_TO_REGION_CODE:
                return code  # what parsing finds: the shortest known calling code the digits start with
    try:
        return phonenumbers.parse(text, None).country_code
    except phonenumbers.NumberParseException:
        return None


# "+" and 7 to 15 digits, the first not 0: parsing such a text finds its calling code from its first digits alone.
_E164_TEXT = re.compile(r"\+[1-9][0-9]{6,14}")


def patient_phone(number: str, *, patient_number: object = "") -> str:
    """Return NUMBER as the patient dials it: national format inside the patient's country, else international.

    PATIENT_NUMBER: the patient's own number (text or the stored PhoneNumber), which says their country.
    """
    home = _calling_code(patient_number) or phonenumbers.country_code_for_region(settings.PHONENUMBER_DEFAULT_REGION)
    return _dialled(str(number), home)


@functools.lru_cache(maxsize=1024)
def _dialled(number: str, home: int) -> str:
    """Return NUMBER formatted for a patient in the country with calling code HOME (a few numbers: cached)."""
    try:
        parsed = phonenumbers.parse(number, None)
    except phonenumbers.NumberParseException:
        return number
    # Compare calling codes, not regions: fictional 555 numbers (the demo's) have no region.
    same_country = parsed.country_code == home
    style = phonenumbers.PhoneNumberFormat.NATIONAL if same_country else phonenumbers.PhoneNumberFormat.INTERNATIONAL
    return phonenumbers.format_number(parsed, style)
