"""SMS keywords (STOP, START, HELP and their variants): the parser for inbound replies."""

import enum
import re
import unicodedata


class Keyword(enum.StrEnum):
    OPT_OUT = "opt_out"
    OPT_IN = "opt_in"
    HELP = "help"


# Compared without spaces, so "STOP ALL", "stop-all" and "STOPALL" are one keyword.
OPT_OUT_WORDS = frozenset(
    {"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "OPTOUT", "REVOKE", "STOPP"}
    | {"PARAR", "CANCELAR", "BAJA"}  # Spanish
)
OPT_IN_WORDS = frozenset({"START", "UNSTOP", "YES", "SUBSCRIBE", "OPTIN", "COMENZAR", "SI"})
# YES is an opt-in keyword only for a patient who opted out; otherwise it is an ordinary reply.
WEAK_OPT_IN_WORDS = frozenset({"YES", "SI"})
HELP_WORDS = frozenset({"HELP", "INFO", "AYUDA"})

_NOT_ALNUM = re.compile(r"[^0-9A-Z]+")


def keyword_normalize(body: str) -> str:
    """Return BODY upper-cased, accents and punctuation dropped, without any spaces."""
    text = unicodedata.normalize("NFKD", body or "")
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    return _NOT_ALNUM.sub("", text.upper())


def keyword_parse(body: str) -> Keyword | None:
    """Return the keyword the whole message BODY is (case, spacing and punctuation ignored), or None."""
    word = keyword_normalize(body)
    if word in OPT_OUT_WORDS:
        return Keyword.OPT_OUT
    if word in OPT_IN_WORDS:
        return Keyword.OPT_IN
    if word in HELP_WORDS:
        return Keyword.HELP
    return None


def keyword_is_weak(body: str) -> bool:
    """Return True when BODY is an opt-in word that also reads as an everyday answer (YES)."""
    return keyword_normalize(body) in WEAK_OPT_IN_WORDS


_NUMBER_REPLY = re.compile(r"^\s*(\d{1,2})\s*(?:/\s*10|out\s+of\s+10|de\s+10)?[\s.!]*$", re.IGNORECASE)


def reply_number(body: str, *, low: int = 0, high: int = 10) -> int | None:
    """Return the number a reply consists of ("7", "7/10", "7 out of 10", "7 de 10") if LOW..HIGH, else None."""
    match = _NUMBER_REPLY.match(body or "")
    if match is None:
        return None
    value = int(match.group(1))
    return value if low <= value <= high else None
