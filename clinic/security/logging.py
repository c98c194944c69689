"""No PHI in logs: a logging filter that scrubs what must never reach a log line.

The code does not log PHI in the first place; this filter is defence in depth on every handler. It
replaces email addresses, phone numbers, ISO dates (dates of birth) and the values of PHI-bearing
fields written as `field=value`, `field: value` or `'field': 'value'`.
"""

import logging
import re

REDACTED = "[redacted]"

PHI_FIELDS = (
    "legal_first_name",
    "legal_last_name",
    "preferred_name",
    "first_name",
    "last_name",
    "name",
    "date_of_birth",
    "dob",
    "mobile_phone",
    "phone",
    "email",
    "allergies",
    "anticoagulant_details",
    "body",
    "text",
    "note",
    "notes",
)

_EMAIL = re.compile(r"[\w.!#$%&'*+/=?^`{|}~-]+@[\w-]+(\.[\w-]+)+")  # RFC 5322 atext local parts
# E.164 (+15555550123) and common national forms ((555) 555-0123, 555-555-0123, 555.555.0123).
_PHONE = re.compile(r"\+\d{8,15}|(?<!\w)\(?\d{3}\)?[\s.-]\d{3}[\s.-]\d{4}(?!\w)")
_DATE = re.compile(r"\b(19|20)\d{2}-\d{2}-\d{2}\b|\b\d{1,2}/\d{1,2}/(19|20)\d{2}\b")
_FIELD = re.compile(
    r"""(?P<key>['"]?\b(?:""" + "|".join(PHI_FIELDS) + r""")\b['"]?\s*[:=]\s*)(?P<value>'[^']*'|"[^"]*"|[^,\s)}\]]+)""",
    re.IGNORECASE,
)


def scrub(text: str) -> str:
    """Return TEXT with emails, phone numbers, dates and PHI field values replaced by [redacted]."""
    text = _FIELD.sub(lambda m: m.group("key") + REDACTED, text)
    text = _EMAIL.sub(REDACTED, text)
    text = _PHONE.sub(REDACTED, text)
    return _DATE.sub(REDACTED, text)


class PHIScrubFilter(logging.Filter):
    """Rewrite each record's message (and formatted traceback) with `scrub`; never drops a record."""

    _formatter = logging.Formatter()

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a broken format string must not break logging; keep the template only
            message = str(record.msg)
        record.msg, record.args = scrub(message), ()
        if record.exc_info and not record.exc_text:
            record.exc_text = self._formatter.formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = scrub(record.exc_text)
        if record.stack_info:
            record.stack_info = scrub(record.stack_info)
        return True
