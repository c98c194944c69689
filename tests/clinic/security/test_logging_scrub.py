"""Property tests for the log scrubber: whatever surrounds them, contact details never survive."""

from hypothesis import given
from hypothesis import strategies as st

from clinic.security.logging import PHI_FIELDS, scrub

surrounding = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=30)


def _national(d: str) -> list[str]:
    return [f"({d[:3]}) {d[3:6]}-{d[6:]}", f"{d[:3]}-{d[3:6]}-{d[6:]}", f"{d[:3]}.{d[3:6]}.{d[6:]}"]


@given(before=surrounding, after=surrounding, email=st.emails())
def test_no_email_survives(before, after, email):
    assert email not in scrub(f"{before} {email} {after}")


@given(before=surrounding, after=surrounding, number=st.from_regex(r"\A\+1[2-9]\d{9}\Z"))
def test_no_e164_phone_number_survives(before, after, number):
    assert number not in scrub(f"{before}{number}{after}")


@given(before=surrounding, after=surrounding, number=st.from_regex(r"\A[2-9]\d{9}\Z"), style=st.integers(0, 2))
def test_no_national_phone_number_survives(before, after, number, style):
    written = _national(number)[style]
    assert written not in scrub(f"{before} {written} {after}")


@given(
    field=st.sampled_from(PHI_FIELDS),
    value=st.text(alphabet=st.characters(categories=["L", "N"]), min_size=2, max_size=20),
    quote=st.sampled_from(["", "'", '"']),
    separator=st.sampled_from(["=", ": ", " = "]),
)
def test_phi_field_values_are_redacted(field, value, quote, separator):
    scrubbed = scrub(f"saved {field}{separator}{quote}{value}{quote} ok")
    assert scrubbed == f"saved {field}{separator}[redacted] ok"


@given(text=surrounding)
def test_scrub_never_raises_and_is_idempotent(text):
    once = scrub(text)
    assert scrub(once) == once


def test_long_digit_runs_after_a_plus_are_cut_too():
    assert "+12025550143" not in scrub("x+1202555014399999y")
