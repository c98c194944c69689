"""System checks for messaging: settings whose wrong values would send twice or never, and the texts.

`message_templates_check` renders every message template every installed app ships (found under its
templates/messaging/<channel>/, no app named) in every configured language, with the configured clinic
name and contact, the opt-out footer where automated texts carry it, and each `{% if %}` both ways,
and refuses start-up when one breaks a content rule: too many segments, a block-listed word, a link in
an email, no STOP instructions where they are required.
"""

import re
from pathlib import Path
from typing import Any

import phonenumbers
from django.apps import apps
from django.conf import settings
from django.core.checks import CheckMessage, Error, Tags, Warning, register
from django.core.exceptions import ValidationError
from django.template.loader import select_template
from django.utils.module_loading import import_string

from clinic.messaging.content import FORBIDDEN_WORDS, message_render, phi_words
from clinic.messaging.keyword_answers import KEYWORD_TEMPLATES
from clinic.messaging.quiet_hours import send_window
from clinic.models import Patient

# Values the sample renders use for the variables a sending app passes; any other variable is
# measured as a 20-character placeholder. "when": the longest forms clinic.clock.patient_datetime writes.
SAMPLE_VALUES: dict[str, dict[str, str]] = {
    "when": {"en": "Wed 30 Sep, 12:30 PM", "es": "sáb 30/09, 12:30"},
}
PLACEHOLDER = "X" * 20
# Variables message_render provides itself; patient_can_text is also tried both ways.
_RENDER_VARIABLES = {"clinic_name", "clinic_phone", "clinic_email", "sms_number", "first_name"}
_PRINTED = re.compile(r"{{\s*(\w+)")
_TESTED = re.compile(r"{%\s*(?:el)?if\s+(?:not\s+)?(\w+)")


@register(Tags.compatibility)
def messaging_settings(app_configs: object, **kwargs: object) -> list[CheckMessage]:
    """Run the configured SMS backend's own checks; refuse a malformed send window and no attempts."""
    errors: list[CheckMessage] = []
    try:
        errors.extend(import_string(settings.SMS_BACKEND).check())
    except ImportError as exc:
        errors.append(Error(f"SMS_BACKEND cannot be imported: {exc}", id="messaging.E004"))
    try:
        send_window()
    except Exception as exc:
        errors.append(Error(str(exc), id="messaging.E002"))
    if settings.MESSAGING_MAX_ATTEMPTS < 1:
        errors.append(Error("MESSAGING_MAX_ATTEMPTS must be at least 1", id="messaging.E003"))
    if settings.MESSAGING_SMS_MAX_SEGMENTS < 1:
        errors.append(Error("MESSAGING_SMS_MAX_SEGMENTS must be at least 1", id="messaging.E006"))
    if settings.MESSAGING_OPT_OUT_FOOTER_DAYS < 1:
        errors.append(Error("MESSAGING_OPT_OUT_FOOTER_DAYS must be at least 1", id="messaging.E007"))
    return errors


def message_templates() -> list[tuple[str, str]]:
    """Return every (channel, template name) under an installed app's or a TEMPLATES dir's messaging/ folder."""
    bases = [Path(app.path) / "templates" for app in apps.get_app_configs()]
    engines: list[dict[str, Any]] = settings.TEMPLATES
    bases += [Path(folder) for engine in engines for folder in engine.get("DIRS", [])]
    found = set()
    for base in bases:
        for channel in ("sms", "email"):
            for path in (base / "messaging" / channel).glob("*.txt"):
                if not path.name.endswith(".subject.txt"):
                    found.add((channel, path.name.split(".")[0]))
    return sorted(found)


def _template_sources(channel: str, template: str) -> str:
    sources = []
    for code, _ in settings.LANGUAGES:
        names = [f"messaging/{channel}/{template}.{lang}.txt" for lang in (code, "en")]
        try:
            sources.append(select_template(names).template.source)
        except Exception:  # noqa: S112  (a missing or broken file is reported by the render itself)
            continue
    return "\n".join(sources)


def _contexts(channel: str, template: str, language: str) -> list[dict[str, object]]:
    """Return the contexts to try: every variable filled, each tested one true, then each false."""
    source = _template_sources(channel, template)
    tested = set(_TESTED.findall(source)) - _RENDER_VARIABLES
    printed = set(_PRINTED.findall(source)) - _RENDER_VARIABLES
    filled = {name: SAMPLE_VALUES.get(name, {}).get(language, PLACEHOLDER) for name in printed | tested}
    return [{**filled, **dict.fromkeys(tested, True)}, {**filled, **dict.fromkeys(tested, False)}]


def _sample_patient(language: str) -> Patient:
    example = phonenumbers.example_number_for_type(
        settings.PHONENUMBER_DEFAULT_REGION, phonenumbers.PhoneNumberType.MOBILE
    )
    mobile = phonenumbers.format_number(example, phonenumbers.PhoneNumberFormat.E164) if example else ""
    return Patient(
        legal_first_name="Maximiliana", legal_last_name="Sample", preferred_language=language,
        mobile_phone=mobile, sms_consent=True, email_consent=True, email="patient@example.org",
    )  # fmt: skip


def message_template_problems() -> list[str]:
    """Return one line per template, language and rule broken when rendered with the configured clinic."""
    problems: list[str] = []
    for channel, template in message_templates():
        for language, _ in settings.LANGUAGES:
            patient = _sample_patient(language)
            found: dict[str, None] = {}
            for context in _contexts(channel, template, language):
                for can_text in (True, False):
                    automated = channel == "sms" and template not in KEYWORD_TEMPLATES
                    try:
                        rendered = message_render(
                            patient=patient, channel=channel, template=template,
                            context={"patient_can_text": can_text, **context}, opt_out_footer=automated,
                        )  # fmt: skip
                    except ValidationError as exc:
                        found.update(dict.fromkeys(exc.messages))
                        continue
                    except Exception as exc:
                        found[f"cannot be rendered: {type(exc).__name__}: {exc}"] = None
                        continue
                    if channel == "sms" and template != "opt_out_confirm" and "STOP" not in rendered.body:
                        found["SMS body does not tell how to opt out (STOP)."] = None
            problems += [f"{channel} template {template!r} ({language}): {problem}" for problem in found]
    return problems


@register()
def message_templates_check(app_configs: object, **kwargs: object) -> list[CheckMessage]:
    """Refuse start-up when a message template breaks a content rule with the configured clinic name."""
    if settings.MESSAGING_SMS_MAX_SEGMENTS < 1:
        return []  # messaging.E006 says it; every SMS would fail to render
    hint = (
        f"With CLINIC_NAME {settings.CLINIC_NAME!r} and MESSAGING_SMS_MAX_SEGMENTS "
        f"{settings.MESSAGING_SMS_MAX_SEGMENTS}: shorten the text or the name, or allow more segments."
    )
    messages: list[CheckMessage] = [
        Error(problem, hint=hint, id="messaging.E005") for problem in message_template_problems()
    ]
    if not settings.CLINIC_NAME.strip():
        messages.append(Error("CLINIC_NAME is empty: every text starts with the clinic's name", id="messaging.E008"))
    pattern = re.compile(r"\b(" + "|".join(re.escape(w) for w in (*phi_words(), *FORBIDDEN_WORDS)) + r")\b", re.I)
    words = sorted({m.group(0).lower() for m in pattern.finditer(f"{settings.CLINIC_NAME} {settings.CLINIC_EMAIL}")})
    if words:
        messages.append(
            Warning(
                f"CLINIC_NAME or CLINIC_EMAIL contains {', '.join(words)}, which no message may otherwise say.",
                hint="The content rules let the clinic's own name and email through; every text carries them.",
                id="messaging.W002",
            )
        )
    return messages
