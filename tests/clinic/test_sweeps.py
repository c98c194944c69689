"""clinic.sweeps: what every sweep over due rows shares."""

import gc

import pytest

from clinic.sweeps import collector_paused


@pytest.fixture
def collector_on():
    was = gc.isenabled()
    gc.enable()
    yield
    (gc.enable if was else gc.disable)()


def test_the_collector_is_paused_for_a_batch_and_resumed_after(collector_on):
    with collector_paused():
        assert not gc.isenabled()
    assert gc.isenabled()


def test_the_collector_resumes_when_the_batch_fails(collector_on):
    with pytest.raises(RuntimeError, match="batch failed"), collector_paused():
        raise RuntimeError("batch failed")
    assert gc.isenabled()


def test_a_collector_someone_else_paused_stays_paused(collector_on):
    gc.disable()
    with collector_paused():
        assert not gc.isenabled()
    assert not gc.isenabled()
