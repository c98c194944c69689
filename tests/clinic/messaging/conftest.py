import datetime as dt

import pytest
import time_machine

# Noon in New York (the default patient zone): inside the send window.
NOON_NY = dt.datetime(2026, 3, 2, 17, 0, tzinfo=dt.UTC)


@pytest.fixture
def noon():
    with time_machine.travel(NOON_NY, tick=False) as traveller:
        yield traveller
