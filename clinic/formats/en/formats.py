"""How staff read dates and times in the admin: the clinic's style (clinic.clock.STAFF_*), not Django's
"Dec. 27, 2026, 9 a.m.". Only the display formats; the input formats stay Django's."""

DATE_FORMAT = "Y-m-d"
TIME_FORMAT = "H:i"
DATETIME_FORMAT = "Y-m-d H:i"
SHORT_DATE_FORMAT = "Y-m-d"
SHORT_DATETIME_FORMAT = "Y-m-d H:i"
YEAR_MONTH_FORMAT = "F Y"
MONTH_DAY_FORMAT = "j F"
