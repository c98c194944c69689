"""Reminder lead times: the text staff write ("2 days, 2 hours"), parsed, validated and written back.

A list of comma-separated lead times, each an amount and a unit (minutes, hours, days, weeks; "1 day 12
hours" adds up), longest first once parsed. "none" means no reminders. An appointment type's empty field
means the clinic's default, SCHEDULING_REMINDER_LEAD_TIMES ("24 hours").
"""

import datetime as dt
import re

from django.conf import settings
from django.core.exceptions import ValidationError

NONE_WORDS = frozenset({"none", "no", "off"})
MAX_LEAD_TIMES = 5
SHORTEST = dt.timedelta(minutes=30)
LONGEST = dt.timedelta(days=30)
_UNITS = {
    "minute": dt.timedelta(minutes=1),
    "min": dt.timedelta(minutes=1),
    "m": dt.timedelta(minutes=1),
    "hour": dt.timedelta(hours=1),
    "hr": dt.timedelta(hours=1),
    "h": dt.timedelta(hours=1),
    "day": dt.timedelta(days=1),
    "d": dt.timedelta(days=1),
    "week": dt.timedelta(weeks=1),
    "w": dt.timedelta(weeks=1),
}
_PART = re.compile(r"(\d{1,4})\s*([a-z]+)")


def _unit(word: str) -> dt.timedelta | None:
    if word in _UNITS:
        return _UNITS[word]
    if word.endswith("s") and word[:-1] in _UNITS:
        return _UNITS[word[:-1]]
    return None


def _one(text: str) -> dt.timedelta:
    """Return the lead time one comma-separated item states ("2 days", "1 day 12 hours")."""
    item = text.strip().lower()
    parts = _PART.findall(item)
    if not parts or _PART.sub("", item).strip():
        raise ValidationError(f'{text.strip()!r} is not a lead time: write an amount and a unit, e.g. "2 hours".')
    total = dt.timedelta(0)
    for amount, word in parts:
        unit = _unit(word)
        if unit is None:
            raise ValidationError(f"{word!r} is not a unit: use minutes, hours, days or weeks.")
        total += int(amount) * unit
    return total


def lead_times_parse(text: str) -> tuple[dt.timedelta, ...]:
    """Return the lead times TEXT states, longest first; () for "none". Raise ValidationError naming the problem."""
    text = (text or "").strip()
    if text.lower() in NONE_WORDS:
        return ()
    if not text:
        raise ValidationError('Give lead times such as "24 hours" or "2 days, 2 hours", or "none".')
    leads = [_one(item) for item in text.split(",")]
    for lead in leads:
        if not SHORTEST <= lead <= LONGEST:
            raise ValidationError(
                f"{lead_time_format(lead)} is out of range: a reminder goes between "
                f"{lead_time_format(SHORTEST)} and {lead_time_format(LONGEST)} before the visit."
            )
    if len(set(leads)) != len(leads):
        raise ValidationError("The same lead time is given twice.")
    if len(leads) > MAX_LEAD_TIMES:
        raise ValidationError(f"At most {MAX_LEAD_TIMES} reminders per visit.")
    return tuple(sorted(leads, reverse=True))


def lead_times_validate(text: str) -> None:
    """Model field validator: an empty value (the clinic default) or lead times lead_times_parse accepts."""
    if (text or "").strip():
        lead_times_parse(text)


def lead_time_format(lead: dt.timedelta) -> str:
    """Return LEAD as staff write it: "90 minutes", "24 hours", "36 hours", "2 days", "2 days 2 hours", "1 week"."""
    minutes = int(lead.total_seconds() // 60)
    hours, odd_minutes = divmod(minutes, 60)
    if odd_minutes:
        return _amounts([(minutes // (24 * 60), "day"), (minutes % (24 * 60), "minute")])
    if hours < 48:  # "24 hours", "36 hours": how clinics say a reminder's lead
        return _amounts([(hours, "hour")])
    if hours % (7 * 24) == 0:
        return _amounts([(hours // (7 * 24), "week")])
    return _amounts([(hours // 24, "day"), (hours % 24, "hour")])


def _amounts(amounts: list[tuple[int, str]]) -> str:
    return " ".join(f"{n} {unit}{'s' * (n != 1)}" for n, unit in amounts if n)


def lead_times_format(leads: tuple[dt.timedelta, ...]) -> str:
    """Return LEADS as one line ("2 days, 2 hours"), or "none"."""
    return ", ".join(lead_time_format(lead) for lead in leads) or "none"


def lead_times_default() -> tuple[dt.timedelta, ...]:
    """Return the clinic's default lead times (SCHEDULING_REMINDER_LEAD_TIMES)."""
    return lead_times_parse(settings.SCHEDULING_REMINDER_LEAD_TIMES)
