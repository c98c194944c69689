"""Find a patient the way the front desk types: a phone in any common format, a date of birth, name fragments.

One search for the admin search box, the admin's patient pickers and the API's ?search=. It stays
index-friendly: a phone is normalised to E.164 and matched exactly (phones are stored E.164), a date
of birth is matched exactly, an MRN exactly; names match by fragment (each word in the first, last or
preferred name; a trigram index serves the contains on PostgreSQL).
"""

import datetime as dt
import re
from functools import reduce
from operator import and_

import phonenumbers
from django.conf import settings
from django.db.models import Q, QuerySet
from django.utils import timezone

from clinic.models import Patient

# The clinic's usual ways of writing a date of birth (US first: 09/03/1985, 9/3/85, 1985-09-03).
DOB_FORMATS = ["%Y-%m-%d", "%m/%d/%Y", "%m/%d/%y", "%m-%d-%Y", "%d.%m.%Y"]
_PHONE_CHARS = re.compile(r"^\+?[\d\s().-]+$")
_NAME_FIELDS = ("legal_first_name", "legal_last_name", "preferred_name")
MIN_PHONE_FRAGMENT_DIGITS = 4


def search_date_of_birth(text: str) -> dt.date | None:
    """Return the date of birth TEXT names in one of DOB_FORMATS, or None; two-digit years are never in the future."""
    for fmt in DOB_FORMATS:
        try:
            day = dt.datetime.strptime(text, fmt).date()  # noqa: DTZ007 (a calendar date, no time zone)
        except ValueError:
            continue
        if day > timezone.localdate() and "%y" in fmt:
            day = day.replace(year=day.year - 100)  # "1/2/30" is 1930 for a patient, not 2030
        return day
    return None


def search_phone(text: str) -> str | None:
    """Return TEXT as an E.164 phone number when it is a whole number in any common format, else None."""
    if not _PHONE_CHARS.match(text) or sum(c.isdigit() for c in text) < 10:
        return None
    try:
        number = phonenumbers.parse(text, settings.PHONENUMBER_DEFAULT_REGION)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_possible_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def patients_search(*, queryset: QuerySet[Patient], term: str) -> QuerySet[Patient]:
    """Return the patients in QUERYSET that TERM names: phone, date of birth, MRN, email or name fragments."""
    text = " ".join(term.split())
    if not text:
        return queryset
    date_of_birth = search_date_of_birth(text)
    if date_of_birth is not None:
        return queryset.filter(date_of_birth=date_of_birth)
    phone = search_phone(text)
    if phone is not None:
        return queryset.filter(mobile_phone=phone)
    if _PHONE_CHARS.match(text):
        digits = re.sub(r"\D", "", text)
        if len(digits) >= MIN_PHONE_FRAGMENT_DIGITS:  # the last digits of a number, or an MRN
            return queryset.filter(Q(mrn=digits) | Q(mobile_phone__contains=digits))
    if "@" in text:
        return queryset.filter(email__iexact=text)
    words = [w for w in re.split(r"[\s,]+", text) if w]
    per_word = [reduce(lambda a, b: a | b, (Q(**{f"{f}__icontains": w}) for f in _NAME_FIELDS)) for w in words]
    return queryset.filter(reduce(and_, per_word) | Q(mrn=text))
