"""The numbers the clinic watches per month: confirmation rate, and no-show rate with and without a reminder.

Counted in the database (one grouped query over the months asked for), over the visits whose start
has passed, by their month in clinic time; cancelled visits count nowhere (they neither came nor failed
to). A visit is "reminded" when at least one of its reminders was sent; "confirmed" when the patient
(by SMS) or staff confirmed it. `numbers_by_month` is the hook for more columns (e.g. waitlist fills):
add a field to MonthNumbers and one aggregate to the query, or merge another per-month query's rows by
`month`.
"""

import dataclasses
import datetime as dt
from dataclasses import dataclass

from django.db.models import Count, Exists, OuterRef, Q
from django.db.models.functions import TruncMonth

from clinic.clock import clinic_tz
from scheduling.models import Appointment, AppointmentReminder
from scheduling.waitlist import waitlist_fills_by_month

S = Appointment.Status


@dataclass(frozen=True)
class MonthNumbers:
    """One month's counts (visits started in that clinic-time month) and the rates derived from them."""

    month: dt.date  # the first day of the month
    visits: int = 0  # started by now, not cancelled
    reminded: int = 0  # of the visits, those with a reminder sent
    confirmed: int = 0  # of the reminded, those confirmed
    confirmed_by_sms: int = 0  # of the confirmed, by the patient's SMS reply
    no_shows_reminded: int = 0
    no_shows_not_reminded: int = 0
    waitlist_fills: int = 0  # visits booked from the waitlist (offers accepted that month)

    @property
    def not_reminded(self) -> int:
        return self.visits - self.reminded

    @property
    def confirmation_rate(self) -> float | None:
        """Return confirmed / reminded (None with no reminded visit)."""
        return self.confirmed / self.reminded if self.reminded else None

    @property
    def no_show_rate_reminded(self) -> float | None:
        return self.no_shows_reminded / self.reminded if self.reminded else None

    @property
    def no_show_rate_not_reminded(self) -> float | None:
        return self.no_shows_not_reminded / self.not_reminded if self.not_reminded else None


def _month_starts(first: dt.date, last: dt.date) -> list[dt.date]:
    months, month = [], first.replace(day=1)
    while month <= last:
        months.append(month)
        month = (month + dt.timedelta(days=32)).replace(day=1)
    return months


def numbers_by_month(*, first_month: dt.date, last_month: dt.date, now: dt.datetime) -> list[MonthNumbers]:
    """Return one MonthNumbers per month from FIRST_MONTH to LAST_MONTH (clinic time), oldest first, zeros
    for months without visits; visits count once their start has passed NOW."""
    zone = clinic_tz()
    months = _month_starts(first_month, last_month)
    since = dt.datetime.combine(months[0], dt.time(), tzinfo=zone)
    after_last = (months[-1] + dt.timedelta(days=32)).replace(day=1)
    until = min(dt.datetime.combine(after_last, dt.time(), tzinfo=zone), now)
    reminded = Q(reminded=True)
    rows = (
        Appointment.objects.filter(start__gte=since, start__lt=until)
        .exclude(status=S.CANCELLED)
        .annotate(
            month=TruncMonth("start", tzinfo=zone),
            reminded=Exists(
                AppointmentReminder.objects.filter(appointment=OuterRef("pk"), status=AppointmentReminder.Status.SENT)
            ),
        )
        .values("month")
        .annotate(
            visits=Count("pk"),
            reminded_visits=Count("pk", filter=reminded),
            confirmed=Count("pk", filter=reminded & Q(confirmed_at__isnull=False)),
            confirmed_by_sms=Count("pk", filter=reminded & Q(confirmed_via=Appointment.ConfirmedVia.SMS)),
            no_shows_reminded=Count("pk", filter=reminded & Q(status=S.NO_SHOW)),
            no_shows_not_reminded=Count("pk", filter=Q(reminded=False, status=S.NO_SHOW)),
        )
        .order_by("month")
    )
    found = {}
    for row in rows:  # one row per month, not per appointment
        truncated = row["month"]
        month = truncated.astimezone(zone).date() if isinstance(truncated, dt.datetime) else truncated
        found[month] = MonthNumbers(
            month=month,
            visits=row["visits"],
            reminded=row["reminded_visits"],
            confirmed=row["confirmed"],
            confirmed_by_sms=row["confirmed_by_sms"],
            no_shows_reminded=row["no_shows_reminded"],
            no_shows_not_reminded=row["no_shows_not_reminded"],
        )
    fills = waitlist_fills_by_month(start=months[0], end=after_last - dt.timedelta(days=1))
    return [
        dataclasses.replace(found.get(month, MonthNumbers(month=month)), waitlist_fills=fills.get(month, 0))
        for month in months
    ]
