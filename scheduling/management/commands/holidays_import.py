"""Add this year's and next year's public holidays as clinic-wide closures (editable in the admin)."""

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from scheduling.closures import holidays_import


class Command(BaseCommand):
    help = (
        "Add public holidays (this year and next, or --year) of SCHEDULING_HOLIDAYS_COUNTRY / _SUBDIVISION "
        "as clinic-wide closures. Idempotent: days already closed clinic-wide are left alone."
    )

    def add_arguments(self, parser):
        parser.add_argument("--year", type=int, action="append", help="A year to import (repeatable)")
        parser.add_argument("--country", help="ISO 3166 country code (default: SCHEDULING_HOLIDAYS_COUNTRY)")
        parser.add_argument("--subdivision", help="State or province (default: SCHEDULING_HOLIDAYS_SUBDIVISION)")

    def handle(self, *args, **options):
        this_year = timezone.localdate().year
        years = options["year"] or [this_year, this_year + 1]
        try:
            created = holidays_import(years=years, country=options["country"], subdivision=options["subdivision"])
        except NotImplementedError as exc:  # the holidays package's answer to an unknown country or subdivision
            raise CommandError(f"No holiday calendar: {exc}") from exc
        for closure in created:
            self.stdout.write(f"  {closure.first_day:%Y-%m-%d}  {closure.reason}")
        self.stdout.write(
            self.style.SUCCESS(f"{len(created)} holiday closure(s) added for {', '.join(map(str, years))}.")
        )
