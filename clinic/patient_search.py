"""Find a patient the way the front desk types: a phone in any common format, a date of birth, name fragments.

One search for the admin search box, the admin's patient pickers and the API's ?search=. It stays
index-friendly: a phone is normalised to E.164 and matched exactly (phones are stored E.164), a date
of birth is matched exactly, an MRN exactly; names match by fragment (each word in the first, last or
preferred name; a trigram index serves the contains on PostgreSQL).

A name search in the list's own order ranks the patients whose last name starts with one of the
words first, then the other matches, each by last name, first name and id, case-insensitively. The
paginator reads the two tiers in turn (clinic.pagination.PagingHint): on PostgreSQL the first tier
comes from a btree on the upper-cased names (collation "C", clinic/migrations/0003) in that order,
so a page of a common surname stops at its LIMIT; the trigram scan runs only for pages the first
tier does not fill. A name search counts to SEARCH_COUNT_CAP ("at least that many: type more").
"""

import datetime as dt
import re
from functools import reduce
from operator import and_, or_

import phonenumbers
from django.conf import settings
from django.db import connections
from django.db.models import Case, F, Q, QuerySet, Value, When
from django.db.models.functions import Collate, Upper
from django.utils import timezone

from clinic.models import Patient
from clinic.pagination import paging_hint_set

# The clinic's usual ways of writing a date of birth (US first: 09/03/1985, 9/3/85, 1985-09-03).
DOB_FORMATS = ["%Y-%m-%d", "%m/%d/%Y", "%m/%d/%y", "%m-%d-%Y", "%d.%m.%Y"]
_PHONE_CHARS = re.compile(r"^\+?[\d\s().-]+$")
_NAME_FIELDS = ("legal_first_name", "legal_last_name", "preferred_name")
MIN_PHONE_FRAGMENT_DIGITS = 4
# A name search counts this far: past it the count means "at least", and staff type more of the name.
SEARCH_COUNT_CAP = 1_000


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
    per_word = [reduce(or_, (Q(**{f"{f}__icontains": w}) for f in _NAME_FIELDS)) for w in words]
    matches = queryset.filter(reduce(and_, per_word) | Q(mrn=text))
    if queryset.query.order_by and tuple(queryset.query.order_by) != tuple(Patient._meta.ordering or ()):
        paging_hint_set(matches, count_cap=SEARCH_COUNT_CAP)  # staff sorted by a column: their order, unranked
        return matches
    return _ranked(matches, words)


def _name_key(queryset: QuerySet[Patient], field: str) -> Collate | Upper:
    """Return FIELD upper-cased, compared byte by byte on every database (the search index's expression)."""
    upper = Upper(F(field))
    return Collate(upper, "C") if connections[queryset.db].vendor == "postgresql" else upper


def _ranked(matches: QuerySet[Patient], words: list[str]) -> QuerySet[Patient]:
    """Return MATCHES with last names starting with one of WORDS first, and the PagingHint that pages them so."""
    keyed = matches.alias(
        search_last=_name_key(matches, "legal_last_name"), search_first=_name_key(matches, "legal_first_name")
    )
    starts = reduce(or_, (Q(search_last__startswith=Upper(Value(w))) for w in words))
    order = ("search_last", "search_first", "pk")
    tiers = [keyed.filter(starts).order_by(*order), keyed.exclude(starts).order_by(*order)]
    ranked = keyed.alias(search_tier=Case(When(starts, then=Value(0)), default=Value(1))).order_by(
        "search_tier", *order
    )
    paging_hint_set(ranked, count_cap=SEARCH_COUNT_CAP, tiers=tiers)
    return ranked
