import pytest
from hypothesis import given
from hypothesis import strategies as st

from clinic.messaging.keywords import (
    HELP_WORDS,
    OPT_IN_WORDS,
    OPT_OUT_WORDS,
    Keyword,
    keyword_normalize,
    keyword_parse,
    reply_number,
)

STANDARD_OPT_OUT = [
    "STOP",
    "STOPALL",
    "STOP ALL",
    "UNSUBSCRIBE",
    "CANCEL",
    "END",
    "QUIT",
    "OPTOUT",
    "OPT-OUT",
    "REVOKE",
]


@pytest.mark.parametrize("text", [*STANDARD_OPT_OUT, "stop", "Stop.", " STOP! ", "stop all", "Opt out", "PARAR"])
def test_standard_opt_out_keywords(text):
    assert keyword_parse(text) == Keyword.OPT_OUT


@pytest.mark.parametrize("text", ["START", "unstop", "Yes", "yes!", "S\u00cd"])
def test_opt_in_keywords(text):
    assert keyword_parse(text) == Keyword.OPT_IN


@pytest.mark.parametrize("text", ["HELP", "help?", "Info", "ayuda"])
def test_help_keywords(text):
    assert keyword_parse(text) == Keyword.HELP


@pytest.mark.parametrize(
    "text", ["7", "stop texting me please", "my pain is 4", "BOOK", "", "   ", "STOP 5", "starting"]
)
def test_everything_else_is_no_keyword(text):
    assert keyword_parse(text) is None


def _decorations():
    punctuation = st.text(alphabet=" .,!?-_*'\"\t\n", max_size=4)
    return punctuation


def _mixed_case(word: str):
    return st.lists(st.booleans(), min_size=len(word), max_size=len(word)).map(
        lambda flags: "".join(c.lower() if f else c for c, f in zip(word, flags, strict=True))
    )


ALL_WORDS = sorted(OPT_OUT_WORDS | OPT_IN_WORDS | HELP_WORDS | {"STOP ALL", "OPT OUT"})
EXPECTED = {
    **dict.fromkeys(OPT_OUT_WORDS, Keyword.OPT_OUT),
    **dict.fromkeys(OPT_IN_WORDS, Keyword.OPT_IN),
    **dict.fromkeys(HELP_WORDS, Keyword.HELP),
    "STOP ALL": Keyword.OPT_OUT,
    "OPT OUT": Keyword.OPT_OUT,
}


@given(word=st.sampled_from(ALL_WORDS).flatmap(lambda w: st.tuples(st.just(w), _mixed_case(w))),
       before=_decorations(), after=_decorations())  # fmt: skip
def test_keywords_survive_any_case_spacing_and_punctuation(word, before, after):
    canonical, cased = word
    assert keyword_parse(before + cased + after) == EXPECTED[canonical]


@given(st.text(max_size=200))
def test_parser_never_raises_and_normalizing_is_idempotent(text):
    result = keyword_parse(text)
    assert result is None or isinstance(result, Keyword)
    once = keyword_normalize(text)
    assert keyword_normalize(once) == once
    assert keyword_parse(once) == result


@given(st.integers(min_value=0, max_value=10), _decorations())
def test_pain_scores_are_never_keywords(score, decoration):
    assert keyword_parse(f"{decoration}{score}{decoration}") is None


@given(st.sampled_from(sorted(OPT_OUT_WORDS)), st.text(alphabet="abcdefghijklmnopqrstuvwxyz", min_size=2, max_size=12))
def test_a_keyword_followed_by_other_words_is_not_an_exact_keyword(word, tail):
    text = f"{word} {tail}"
    assert keyword_parse(text) == EXPECTED.get(keyword_normalize(text))


@pytest.mark.parametrize(
    ("text", "number"),
    [("7", 7), (" 0 ", 0), ("10", 10), ("7/10", 7), ("3 out of 10", 3), ("4 de 10", 4), ("8.", 8), ("05", 5),
     ("11", None), ("-1", None), ("7 or 8", None), ("I have 2 questions", None), ("", None), ("STOP", None)],
)  # fmt: skip
def test_reply_number(text, number):
    assert reply_number(text) == number


@given(st.integers(min_value=0, max_value=10), st.sampled_from(["", "/10", " / 10", " out of 10", " de 10"]),
       st.text(alphabet=" \t", max_size=3), st.text(alphabet=" .!", max_size=3))  # fmt: skip
def test_every_score_form_parses_to_its_number(score, suffix, before, after):
    assert reply_number(f"{before}{score}{suffix}{after}") == score


@given(st.text(max_size=60))
def test_reply_number_is_in_range_or_none_and_never_a_keyword(text):
    number = reply_number(text)
    assert number is None or 0 <= number <= 10
    if number is not None:
        assert keyword_parse(text) is None
