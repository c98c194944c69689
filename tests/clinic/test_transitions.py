import pytest

from clinic.transitions import TransitionNotAllowed, Transitions

TABLE = Transitions("status", {"draft": {"signed", "voided"}, "signed": {"voided"}, "voided": set()})


def test_table_answers_targets_sources_and_terminal_statuses():
    assert TABLE.statuses == {"draft", "signed", "voided"}
    assert TABLE.targets("draft") == {"signed", "voided"}
    assert TABLE.sources("voided") == {"draft", "signed"}
    assert TABLE.sources("draft") == frozenset()
    assert TABLE.terminal == {"voided"}
    assert TABLE.allows("draft", "signed")
    assert not TABLE.allows("signed", "draft")
    assert not TABLE.allows("unknown", "signed")


def test_check_refuses_a_move_the_table_does_not_allow():
    TABLE.check("signed", "voided")
    with pytest.raises(TransitionNotAllowed, match="status cannot go from 'voided' to 'signed'") as caught:
        TABLE.check("voided", "signed")
    assert (caught.value.current, caught.value.target) == ("voided", "signed")


def test_a_target_without_a_row_is_refused_when_the_table_is_built():
    with pytest.raises(ValueError, match=r"status: targets \['gone'\] have no row of their own"):
        Transitions("status", {"draft": {"gone"}})
