"""Message content: rendering templates per purpose and language, and the SMS body checker.

An SMS is measured the way the network carries it: GSM-7 when every character is in the GSM 03.38
set (the extension characters cost two septets), else UCS-2 (UTF-16 code units); one segment holds
160 septets or 70 units, a concatenated message 153 or 67 per part. Each SMS is held to
MESSAGING_SMS_MAX_SEGMENTS. The configured clinic name and email are the clinic's own words: the
word checks pass over them (the system check vets them at start-up, clinic.messaging.checks).
"""

import datetime as dt
import functools
import math
import re
import sys
from dataclasses import dataclass
from typing import Any, cast

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.signals import setting_changed
from django.dispatch import receiver
from django.template import Context, TemplateDoesNotExist
from django.template.backends.django import Template
from django.template.loader import select_template
from django.utils.autoreload import file_changed

from clinic.clock import patient_phone, phone_text
from clinic.models import Patient

# (one segment, each part of a concatenated message), in septets or UTF-16 code units.
SMS_SEGMENT_SIZES = {"GSM-7": (160, 153), "UCS-2": (70, 67)}
# GSM 03.38 basic character set; the extension set costs two septets each.
GSM7_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§"
    "¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM7_EXTENSION = frozenset("^{}\\[~]|€\f")
# Words that would disclose a diagnosis, a medication or a treated site. The core knows only the
# generic ones; each app registers its own vocabulary (phi_words_register, from its AppConfig.ready),
# and MESSAGING_PHI_EXTRA_WORDS extends the list per clinic. Matching is by whole word, case-insensitive.
PHI_WORDS = ("diagnosis", "diagnosed")
_registered_phi_words: dict[str, None] = {}  # insertion-ordered set
# CANCEL is an opt-out keyword: no message may ask patients to reply with it for anything else.
FORBIDDEN_WORDS = ("cancel", "cancelar")


@dataclass(frozen=True)
class Rendered:
    subject: str
    body: str
    language: str


@dataclass(frozen=True)
class SmsLength:
    encoding: str  # "GSM-7" or "UCS-2"
    units: int  # septets (GSM-7) or UTF-16 code units (UCS-2)
    segments: int


def phi_words_register(*words: str) -> None:
    """Refuse WORDS (diagnoses, medications, treated sites an app knows) in every message body."""
    _registered_phi_words.update(dict.fromkeys(word.lower() for word in words))


def phi_words() -> tuple[str, ...]:
    """Return every word no message may contain: the core's, the apps', then the clinic's extras."""
    return (*PHI_WORDS, *_registered_phi_words, *settings.MESSAGING_PHI_EXTRA_WORDS)


def gsm7_septets(text: str) -> int | None:
    """Return how many GSM-7 septets TEXT needs, or None if it has a character outside GSM-7."""
    count = 0
    for ch in text:
        if ch in GSM7_BASIC:
            count += 1
        elif ch in GSM7_EXTENSION:
            count += 2
        else:
            return None
    return count


@functools.lru_cache(maxsize=4096)
def sms_length(text: str) -> SmsLength:
    """Return the encoding TEXT goes out in, its length in that encoding's units and its segment count."""
    septets = gsm7_septets(text)
    if septets is not None:
        encoding, units = "GSM-7", septets
    else:
        encoding, units = "UCS-2", len(text.encode("utf-16-le")) // 2
    single, part = SMS_SEGMENT_SIZES[encoding]
    return SmsLength(encoding=encoding, units=units, segments=1 if units <= single else math.ceil(units / part))


@functools.lru_cache(maxsize=64)
def _word_pattern(words: tuple[str, ...]) -> re.Pattern[str]:
    return re.compile(r"\b(" + "|".join(re.escape(w) for w in words) + r")\b", re.IGNORECASE)


def _date_forms(patient: Patient) -> tuple[str, ...]:
    dob = patient.date_of_birth
    return _date_forms_of(dob) if dob else ()


@functools.lru_cache(maxsize=4096)
def _date_forms_of(dob: dt.date) -> tuple[str, ...]:
    return (
        dob.isoformat(),
        f"{dob.month}/{dob.day}/{dob.year}",
        f"{dob.month:02d}/{dob.day:02d}/{dob.year}",
        f"{dob.day}/{dob.month}/{dob.year}",
        f"{dob.day:02d}/{dob.month:02d}/{dob.year}",
        f"{dob.month}/{dob.day}/{dob.year % 100:02d}",
        f"{dob:%B} {dob.day}, {dob.year}",
        f"{dob.day} {dob:%B} {dob.year}",
        f"{dob:%b} {dob.day}, {dob.year}",
    )


@functools.cache
def _phone_separators() -> dict[int, None]:
    """Return the str.translate table that deletes what phones are written with: whitespace (every character
    str.isspace() knows, as the regex class \\s does) and "().-"."""
    return dict.fromkeys([*(i for i in range(sys.maxunicode + 1) if chr(i).isspace()), *map(ord, "().-")])


def content_problems(body: str, patient: Patient | None = None) -> list[str]:
    """Return what is wrong with a message BODY for any channel: PHI words and forbidden words."""
    # "Neck and Back Pain Center" may sign its own texts.
    problems = list(_word_problems(body, phi_words(), settings.CLINIC_NAME, settings.CLINIC_EMAIL))
    if patient is not None:
        # Phones are written "(555) 555-0100" for patients: an MRN may hide behind the separators.
        if patient.mrn and (patient.mrn in body or patient.mrn in body.translate(_phone_separators())):
            problems.append("contains the medical record number")
        if any(form in body for form in _date_forms(patient)):
            problems.append("contains the date of birth")
    return problems


@functools.lru_cache(maxsize=4096)
def _word_problems(body: str, phi: tuple[str, ...], clinic_name: str, clinic_email: str) -> tuple[str, ...]:
    """Return the PHI and forbidden words BODY uses, as problems (a sweep's bodies repeat: cached by text and words).

    The clinic's name and email (arguments, so a changed setting is another key) are removed first.
    """
    problems = []
    words = body
    for own in (clinic_name, clinic_email):
        if own:
            words = words.replace(own, " ")
    found = sorted({m.group(0).lower() for m in _word_pattern(phi).finditer(words)})
    if found:
        problems.append(f"names a diagnosis, medication or treated site: {', '.join(found)}")
    forbidden = sorted({m.group(0).lower() for m in _word_pattern(FORBIDDEN_WORDS).finditer(words)})
    if forbidden:
        problems.append(f"uses the opt-out keyword {', '.join(w.upper() for w in forbidden)} for something else")
    return tuple(problems)


def sms_body_problems(body: str, patient: Patient | None = None) -> list[str]:
    """Return every reason BODY may not go out as an SMS (empty when it may)."""
    problems = content_problems(body, patient)
    length = sms_length(body)
    most = settings.MESSAGING_SMS_MAX_SEGMENTS
    if length.segments > most:
        problems.append(
            f"is {length.segments} segments long ({length.units} {length.encoding} characters); "
            f"at most {most} {'segment is' if most == 1 else 'segments are'} allowed"
        )
    if not body.strip():
        problems.append("is empty")
    return problems


def sms_body_check(body: str, patient: Patient | None = None) -> None:
    """Raise ValidationError({"body": ...}) unless BODY fits MESSAGING_SMS_MAX_SEGMENTS and carries no PHI."""
    problems = sms_body_problems(body, patient)
    if problems:
        raise ValidationError({"body": [f"SMS body {p}." for p in problems]})


def email_body_check(subject: str, body: str, patient: Patient | None = None) -> None:
    """Raise ValidationError unless the email carries no PHI and no link (patients call or text)."""
    errors: dict[str, list[str]] = {}
    for field, text in (("subject", subject), ("body", body)):
        problems = content_problems(text, patient)
        if re.search(r"https?://|www\.", text, re.IGNORECASE):
            problems.append("contains a link; emails ask patients to call or text instead")
        if problems:
            errors[field] = [f"Email {field} {p}." for p in problems]
    if errors:
        raise ValidationError(errors)


def _language(patient: Patient) -> str:
    codes = _language_codes(tuple(settings.LANGUAGES))
    return patient.preferred_language if patient.preferred_language in codes else codes[0]


@functools.lru_cache(maxsize=8)
def _language_codes(languages: tuple[tuple[str, str], ...]) -> tuple[str, ...]:
    return tuple(code for code, _ in languages)


def patient_can_text(patient: Patient) -> bool:
    """Return True when a text from the patient reaches us as theirs: a mobile number on file and SMS consent.

    Only then do emails invite them to answer by text; an email-only patient is asked to call.
    """
    return bool(phone_text(patient.mobile_phone)) and bool(patient.sms_consent)


def message_render(
    *, patient: Patient, channel: str, template: str, context: dict, opt_out_footer: bool = False
) -> Rendered:
    """Render TEMPLATE for CHANNEL in the patient's language (falling back to English).

    Templates live at messaging/<channel>/<template>.<lang>.txt, email subjects at
    messaging/email/<template>.<lang>.subject.txt, in the templates/ folder of the app that sends
    them (Django's app directories loader finds them). OPT_OUT_FOOTER (SMS): end the text with
    messaging/sms_footer/opt_out.<lang>.txt ("Reply STOP to opt out.") unless it already names STOP.
    Rendered text is checked before it is stored.
    """
    language = _language(patient)
    full_context = {
        "clinic_name": settings.CLINIC_NAME,
        "clinic_phone": patient_phone(settings.CLINIC_PHONE, patient_number=patient.mobile_phone),
        "clinic_email": settings.CLINIC_EMAIL,
        "sms_number": patient_phone(settings.SMS_FROM_NUMBER, patient_number=patient.mobile_phone),
        "first_name": patient.preferred_name or patient.legal_first_name,
        "patient_can_text": patient_can_text(patient),
        **context,
    }
    names = tuple(f"messaging/{channel}/{template}.{lang}.txt" for lang in dict.fromkeys([language, "en"]))
    try:
        body_template = _template_select(names)
    except TemplateDoesNotExist as exc:
        raise ValidationError({"template": f"No {channel} template named {template!r}."}) from exc
    used_language = (body_template.template.name or "").rsplit(".", 2)[-2]
    body = _render_text(body_template, full_context, squash=True)
    subject = ""
    if channel == "email":
        subject_name = f"messaging/email/{template}.{used_language}.subject.txt"
        try:
            subject = " ".join(_render_text(_template_select((subject_name,)), full_context).split())
        except TemplateDoesNotExist as exc:
            raise ValidationError({"template": f"No email subject template {subject_name!r}."}) from exc
        email_body_check(subject, body, patient)
    else:
        if opt_out_footer and "STOP" not in body:
            footer = _template_select(
                tuple(f"messaging/sms_footer/opt_out.{lang}.txt" for lang in (used_language, "en"))
            )
            body = f"{body} {_render_text(footer, full_context, squash=True)}"
        sms_body_check(body, patient)
    return Rendered(subject=subject, body=body, language=used_language)


def _render_text(template: Template, context: dict[str, Any], *, squash: bool = False) -> str:
    """Render a plain-text template: no HTML escaping ("&" stays "&"). SQUASH: fold it as `_squash` does.

    A template made only of `{{ name }}` and `{% if name %}` / `{% elif name %}` / `{% else %}` / `{% endif %}`
    (every message template so far) is rendered once per source and shape of its context (the values that
    are not printed text, and whether each printed text is empty) and kept as literal parts with slots for
    the printed texts; each message then only fills the slots (a sweep renders thousands). Folded, the
    parts are folded once, when every printed text is already folded (one line, single spaces, trimmed:
    filling such a text in after folding gives what folding the filled text gives). Anything else is
    rendered by Django every time.
    """
    source = template.template.source
    names = _template_names(source)
    if names is None:
        return _folded(_django_render(template, context), squash)
    printed, used = names
    shape: list[tuple[str, object]] = []
    marked: dict[str, Any] = {}  # the context the first rendering of this shape sees
    slots: list[str] = []
    for name in used:  # only the names the template uses shape what it renders
        value = context.get(name, _MISSING)
        if value is _MISSING:
            shape.append((name, _MISSING))  # missing for the first rendering too
        elif isinstance(value, str) and value and name in printed:
            shape.append((name, _FILLED))
            marked[name] = f"\x00{len(slots)}\x00"
            slots.append(value)
        elif value is None or isinstance(value, bool | str):
            shape.append((name, value))
            marked[name] = value
        else:  # dates, numbers, objects: their rendering may depend on the locale or zone
            return _folded(_django_render(template, context), squash)
    if squash and not all(" ".join(slot.split()) == slot for slot in slots):
        return _squash(_render_text(template, context))
    key = (source, tuple(shape), squash)
    parts = _rendered.get(key)
    if parts is None:
        parts = _SLOT.split(_folded(_django_render(template, marked), squash))
        if len(_rendered) >= _RENDERED_MAX:
            _rendered.clear()
        _rendered[key] = parts
    return "".join(part if i % 2 == 0 else slots[int(part)] for i, part in enumerate(parts))


def _folded(text: str, squash: bool) -> str:
    return _squash(text) if squash else text


# Message templates chosen by name (a sweep asks for the same few thousands of times; Django's own lookup
# costs per call), forgotten when the templates may have changed: settings, or a file under autoreload.
_selected: dict[tuple[str, ...], Template] = {}


def _template_select(names: tuple[str, ...]) -> Template:
    """Return the first of the templates NAMES that exists (Django's select_template), remembered."""
    found = _selected.get(names)
    if found is None:
        # The stubs return any engine's template; TEMPLATES holds only Django's, whose .template we render.
        found = cast(Template, select_template(list(names)))
        if len(_selected) >= _RENDERED_MAX:
            _selected.clear()
        _selected[names] = found
    return found


@receiver(setting_changed, dispatch_uid="messaging_templates_setting_changed")
def _templates_forget_on_setting(*, setting: str, **kwargs: Any) -> None:
    if setting in {"TEMPLATES", "INSTALLED_APPS", "DEBUG"}:
        _selected.clear()
        _rendered.clear()


@receiver(file_changed, dispatch_uid="messaging_templates_file_changed")
def _templates_forget_on_file(**kwargs: Any) -> None:
    _selected.clear()
    _rendered.clear()


_FILLED = object()  # in a shape: a printed text, filled in per message
_MISSING = object()  # in a shape: a name the template uses that the context does not hold


# Templates rendered once, as [literal, slot number, literal, ...]; bounded (a few templates, languages, shapes).
_rendered: dict[tuple[str, tuple[tuple[str, object], ...], bool], list[str]] = {}
_RENDERED_MAX = 2048
_SLOT = re.compile("\x00([0-9]+)\x00")
_SIMPLE_TAG = re.compile(r"\{\{ (\w+) \}\}|\{% (?:if|elif) \w+ %\}|\{% (?:else|endif) %\}")
_USED_NAME = re.compile(r"\{\{ (\w+) \}\}|\{% (?:if|elif) (\w+) %\}")


@functools.lru_cache(maxsize=256)
def _template_names(source: str) -> tuple[frozenset[str], tuple[str, ...]] | None:
    """Return (the names SOURCE prints, every name it uses) when it uses only plain variables and if/elif/else
    on a name, else None."""
    rest = _SIMPLE_TAG.sub("", source)
    if "\x00" in source or any(mark in rest for mark in ("{{", "}}", "{%", "%}", "{#", "#}")):
        return None
    printed = frozenset(m.group(1) for m in _SIMPLE_TAG.finditer(source) if m.group(1))
    used = dict.fromkeys(name for m in _USED_NAME.finditer(source) for name in m.groups() if name)
    return printed, tuple(used)


def _django_render(template: Template, context: dict[str, Any]) -> str:
    return template.template.render(Context(context, autoescape=False))


def _squash(text: str) -> str:
    """Return TEXT with template line breaks folded: paragraphs kept, lines joined, ends trimmed."""
    paragraphs = [" ".join(part.split()) for part in re.split(r"\n\s*\n", text.strip())]
    return "\n\n".join(p for p in paragraphs if p)
