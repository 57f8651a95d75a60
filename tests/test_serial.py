"""Date serials in Excel's two date systems and in Google Sheets, the phantom 29 February 1900
included (one pair of functions for every backend, the test server and typed numbers)."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sheet_crm.serial import datetime_to_serial, serial_to_datetime


@pytest.mark.parametrize(
    ("serial", "system", "shown"),
    [
        (1, "1900", date(1900, 1, 1)),
        (59, "1900", date(1900, 2, 28)),
        (60, "1900", date(1900, 2, 28)),  # Excel's 29 February 1900, a day that never was
        (61, "1900", date(1900, 3, 1)),
        (45000, "1900", date(2023, 3, 15)),
        (2958465, "1900", date(9999, 12, 31)),
        (0, "1904", date(1904, 1, 1)),
        (1, "1904", date(1904, 1, 2)),
        (43538, "1904", date(2023, 3, 15)),  # the same day as 45000 in the 1900 system
        (0, "sheets", date(1899, 12, 30)),
        (1, "sheets", date(1899, 12, 31)),
        (59, "sheets", date(1900, 2, 27)),  # Google has no phantom day ...
        (60, "sheets", date(1900, 2, 28)),
        (61, "sheets", date(1900, 3, 1)),  # ... and agrees with Excel from March 1900
        (-1, "sheets", date(1899, 12, 29)),
        (45000, "sheets", date(2023, 3, 15)),
    ],
)
def test_serial_to_day(serial: int, system: str, shown: date) -> None:
    when = datetime(shown.year, shown.month, shown.day)
    assert serial_to_datetime(serial, system) == when  # type: ignore[arg-type]
    assert serial_to_datetime(serial, system, to_second=False) == when  # type: ignore[arg-type]
    if not (system == "1900" and serial == 60):  # no date gives Excel's phantom day back
        assert datetime_to_serial(shown, system) == serial  # type: ignore[call-overload]
        assert datetime_to_serial(when, system) == serial  # type: ignore[call-overload]


def test_days_a_date_system_cannot_show() -> None:
    assert datetime_to_serial(date(1899, 12, 31), "1900") is None
    assert datetime_to_serial(date(1903, 12, 31), "1904") is None
    assert datetime_to_serial(date(1899, 12, 31), "sheets") == 1  # Google counts back from 1899-12-30
    assert datetime_to_serial(date(1800, 1, 1), "sheets") == -36522


def test_time_of_day() -> None:
    assert serial_to_datetime(45000.5) == datetime(2023, 3, 15, 12)
    assert serial_to_datetime(59.75) == datetime(1900, 2, 28, 18)
    assert serial_to_datetime(60.25) == datetime(1900, 2, 28, 6)  # the phantom day's morning
    assert datetime_to_serial(datetime(2023, 3, 15, 18)) == 45000.75
    assert datetime_to_serial(datetime(1900, 2, 28, 18)) == 59.75
    assert datetime_to_serial(datetime(2023, 3, 15, 12), "1904") == 43538.5
    # an .xlsx keeps ~15 digits: 08:00 is stored as 45000.3333333333, read to the second
    assert serial_to_datetime(45000.3333333333) == datetime(2023, 3, 15, 8)
    assert serial_to_datetime(45000.3333333333, to_second=False) != datetime(2023, 3, 15, 8)
    # Google sends exact doubles, so its reader keeps microseconds
    exact = datetime(2023, 3, 15, 8, 0, 0, 250_000)
    assert serial_to_datetime(datetime_to_serial(exact, "sheets"), "sheets", to_second=False) == exact


def test_time_zone_is_dropped_not_converted() -> None:
    aware = datetime(2023, 3, 15, 12, tzinfo=timezone(timedelta(hours=5)))
    assert datetime_to_serial(aware) == 45000.5


def test_out_of_range_serials_raise() -> None:
    for bad in (1e10, float("inf"), float("nan")):
        with pytest.raises((OverflowError, ValueError)):
            serial_to_datetime(bad)


@given(
    st.datetimes(min_value=datetime(1900, 1, 1), max_value=datetime(9999, 12, 31, 23, 59, 59)),
    st.sampled_from(["1900", "1904", "sheets"]),
)
def test_every_shown_date_round_trips(when: datetime, system: str) -> None:
    when = when.replace(microsecond=0)
    serial = datetime_to_serial(when, system)  # type: ignore[call-overload]
    if serial is None:
        assert system == "1904" and when < datetime(1904, 1, 1)
        return
    assert serial_to_datetime(serial, system) == when  # type: ignore[arg-type]
    if when.time() == datetime.min.time():
        assert type(serial) is int
