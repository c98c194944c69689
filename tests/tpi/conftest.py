import datetime as dt

import pytest
import time_machine

NOW = dt.datetime(2026, 3, 10, 15, 0, tzinfo=dt.UTC)


@pytest.fixture
def frozen():
    """Freeze the clock at NOW (a Tuesday afternoon, UTC) for the whole test."""
    with time_machine.travel(NOW, tick=False):
        yield NOW


# Treatment-plan fixtures (issue 5, recurring injection slots).
from tests.tpi.plan_setup import plan_clinic, plan_frozen, plan_settings  # noqa: E402, F401
