"""Best time to contact: free text into weekly slots, and the next slot outside
the quiet hours."""

from __future__ import annotations

from datetime import datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sheet_crm.contact_time import (
    ALL_DAYS,
    ANYTIME,
    allowed_windows,
    next_send_time,
    parse_best_time,
    parse_quiet_hours,
)

NOW = datetime(2026, 11, 22, 10, 30)  # Sunday
QUIET = (20 * 60, 9 * 60)  # 20:00-09:00


def h(hours: float) -> int:
    return int(hours * 60)


@pytest.mark.parametrize(
    ("text", "days", "windows"),
    [
        ("mornings", ALL_DAYS, ((h(9), h(12)),)),
        ("after 5pm", ALL_DAYS, ((h(17), h(24)),)),
        ("weekends", {5, 6}, ((0, h(24)),)),
        ("Tue 2-4pm", {1}, ((h(14), h(16)),)),
        ("evenings", ALL_DAYS, ((h(17), h(21)),)),
        ("lunchtime", ALL_DAYS, ((h(12), h(14)),)),
        ("anytime", ALL_DAYS, ((0, h(24)),)),
        ("Any time", ALL_DAYS, ((0, h(24)),)),
        ("Mon-Fri 9-5", {0, 1, 2, 3, 4}, ((h(9), h(17)),)),
        ("between 2 and 4pm", ALL_DAYS, ((h(14), h(16)),)),
        ("11am-1pm", ALL_DAYS, ((h(11), h(13)),)),
        ("before 10am", ALL_DAYS, ((0, h(10)),)),
        ("Tuesdays after 6:30pm", {1}, ((h(18.5), h(24)),)),
        ("mornings except Fridays", {0, 1, 2, 3, 5, 6}, ((h(9), h(12)),)),
        ("Mon and Wed afternoons", {0, 2}, ((h(12), h(17)),)),
        ("weekdays 14:00-16:30", {0, 1, 2, 3, 4}, ((h(14), h(16.5)),)),
    ],
)
def test_single_rules(text: str, days: set[int], windows: tuple[tuple[int, int], ...]) -> None:
    parsed = parse_best_time(text)
    assert parsed is not None
    assert [(set(r.days), r.windows) for r in parsed.rules] == [(set(days), windows)]


def test_several_parts_make_a_union_and_bare_days_take_the_next_times() -> None:
    parsed = parse_best_time("weekday evenings or Saturdays")
    assert parsed is not None
    assert [(set(r.days), r.windows) for r in parsed.rules] == [
        ({0, 1, 2, 3, 4}, ((h(17), h(21)),)),
        ({5}, ((0, h(24)),)),
    ]
    parsed = parse_best_time("Mon, Wed mornings")
    assert parsed is not None
    assert [(set(r.days), r.windows) for r in parsed.rules] == [({0, 2}, ((h(9), h(12)),))]


@pytest.mark.parametrize(
    "text", ["banana", "call me maybe", "after the school run", "not in winter", "25-26"]
)
def test_unreadable_text_is_none(text: str) -> None:
    assert parse_best_time(text) is None


def test_blank_is_anytime() -> None:
    assert parse_best_time("") == ANYTIME
    assert parse_best_time("   ") == ANYTIME


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("mornings", datetime(2026, 11, 22, 10, 45)),  # today, next quarter hour
        ("after 5pm", datetime(2026, 11, 22, 17, 0)),
        ("weekends", datetime(2026, 11, 22, 10, 45)),
        ("Tue 2-4pm", datetime(2026, 11, 24, 14, 0)),
        ("evenings", datetime(2026, 11, 22, 17, 0)),
        ("lunchtime", datetime(2026, 11, 22, 12, 0)),
        ("anytime", datetime(2026, 11, 22, 10, 45)),
        ("before 10am", datetime(2026, 11, 23, 9, 0)),  # quiet until 9, and 10:30 has passed today
        ("weekdays", datetime(2026, 11, 23, 9, 0)),
    ],
)
def test_next_send_time(text: str, expected: datetime) -> None:
    parsed = parse_best_time(text)
    assert parsed is not None
    assert next_send_time(parsed, NOW, QUIET) == expected


def test_a_slot_wholly_inside_quiet_hours_has_no_time() -> None:
    parsed = parse_best_time("after 9pm")
    assert parsed is not None
    assert next_send_time(parsed, NOW, QUIET) is None


def test_quiet_hours() -> None:
    assert parse_quiet_hours("20:00-09:00") == (h(20), h(9))
    assert parse_quiet_hours("8pm-8am") == (h(20), h(8))
    assert parse_quiet_hours("") == (0, 0)
    assert parse_quiet_hours("sometimes") is None
    assert allowed_windows((h(20), h(9))) == ((h(9), h(20)),)
    assert allowed_windows((h(13), h(14))) == ((0, h(13)), (h(14), h(24)))
    assert allowed_windows((0, 0)) == ((0, h(24)),)


@given(
    st.sampled_from(["mornings", "after 5pm", "weekends", "Tue 2-4pm", "evenings", "lunchtime", "anytime"]),
    st.datetimes(min_value=datetime(2026, 1, 1), max_value=datetime(2027, 12, 31)),
    st.integers(0, 23),
    st.integers(0, 23),
)
def test_suggested_times_are_after_now_and_never_in_quiet_hours(
    text: str, now: datetime, quiet_start: int, quiet_end: int
) -> None:
    parsed = parse_best_time(text)
    assert parsed is not None
    quiet = (quiet_start * 60, quiet_end * 60)
    when = next_send_time(parsed, now, quiet)
    if when is None:
        return
    assert when > now
    minute = when.hour * 60 + when.minute
    assert any(start <= minute < end for start, end in allowed_windows(quiet))
    assert any(when.weekday() in r.days and any(a <= minute < b for a, b in r.windows) for r in parsed.rules)
