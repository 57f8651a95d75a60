"""When to send: the owner's free-text "Best time to contact" as weekly slots, and
the next such slot outside the business's quiet hours.

Owners write things like ``mornings``, ``after 5pm``, ``weekends``, ``Tue 2-4pm``,
``weekday evenings or Saturdays``. We read what we are sure of and say when we are
not (the caller turns ``None`` into a finding): a wrong guess would have the owner
call someone at the very time they asked not to be called.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

__all__ = [
    "Availability",
    "Window",
    "allowed_windows",
    "next_send_time",
    "parse_best_time",
    "parse_quiet_hours",
]

DAY = 24 * 60
ALL_DAYS = frozenset(range(7))
WEEKDAYS = frozenset(range(5))
WEEKEND = frozenset({5, 6})

Window = tuple[int, int]  # minutes after midnight, [start, end)


@dataclass(frozen=True)
class Rule:
    """Some days of the week, and the times on those days."""

    days: frozenset[int]
    windows: tuple[Window, ...]


@dataclass(frozen=True)
class Availability:
    """When a customer is glad to hear from us: a union of rules."""

    rules: tuple[Rule, ...]
    text: str = ""

    @property
    def anytime(self) -> bool:
        return any(r.days == ALL_DAYS and r.windows == ((0, DAY),) for r in self.rules)


ANYTIME = Availability((Rule(ALL_DAYS, ((0, DAY),)),), "anytime")

_DAY_NAMES = {
    "mon": 0,
    "monday": 0,
    "tue": 1,
    "tues": 1,
    "tuesday": 1,
    "wed": 2,
    "weds": 2,
    "wednesday": 2,
    "thu": 3,
    "thur": 3,
    "thurs": 3,
    "thursday": 3,
    "fri": 4,
    "friday": 4,
    "sat": 5,
    "saturday": 5,
    "sun": 6,
    "sunday": 6,
}
_DAY_WORD = r"(?:" + "|".join(sorted(_DAY_NAMES, key=len, reverse=True)) + r")s?\b\.?"

# Parts of the day, as most people mean them.
_PARTS: dict[str, Window] = {
    "early morning": (7 * 60, 9 * 60),
    "morning": (9 * 60, 12 * 60),
    "lunchtime": (12 * 60, 14 * 60),
    "lunch time": (12 * 60, 14 * 60),
    "lunch": (12 * 60, 14 * 60),
    "midday": (12 * 60, 13 * 60),
    "noon": (12 * 60, 13 * 60),
    "afternoon": (12 * 60, 17 * 60),
    "after work": (17 * 60, 21 * 60),
    "evening": (17 * 60, 21 * 60),
    "night": (19 * 60, 22 * 60),
    "office hours": (9 * 60, 17 * 60),
    "business hours": (9 * 60, 17 * 60),
    "working hours": (9 * 60, 17 * 60),
    "work hours": (9 * 60, 17 * 60),
    "daytime": (9 * 60, 17 * 60),
    "during the day": (9 * 60, 17 * 60),
}
_PART_WORD = r"(?:" + "|".join(re.escape(p) for p in sorted(_PARTS, key=len, reverse=True)) + r")s?\b"

_ANY = re.compile(
    r"\b(?:any ?time|any day|anyday|whenever|all day|24/7|no preference|flexible|any)\b", re.IGNORECASE
)
_TIME = r"(\d{1,2})(?:[:.h](\d{2}))?\s*(am|pm|a\.m\.|p\.m\.)?"
_RANGE = re.compile(rf"(?:between\s+|from\s+)?{_TIME}\s*(?:-|–|to|until|till|and)\s*{_TIME}", re.IGNORECASE)
_AFTER = re.compile(rf"\b(after|from|before|until|till|by|at|around)\s+{_TIME}", re.IGNORECASE)
_LONE = re.compile(rf"(?<![\d:.]){_TIME}(?![\d:])", re.IGNORECASE)
_DAY_RANGE = re.compile(rf"\b({_DAY_WORD})\s*(?:-|–|to|through|until)\s*({_DAY_WORD})", re.IGNORECASE)
_GROUPS = (
    (re.compile(r"\bweek ?ends?\b", re.IGNORECASE), WEEKEND),
    (re.compile(r"\b(?:week ?days?|work(?:ing)? ?days?|mon-fri)\b", re.IGNORECASE), WEEKDAYS),
    (re.compile(r"\bdaily\b|\bevery ?day\b", re.IGNORECASE), ALL_DAYS),
)
_NEGATION = re.compile(r"\b(?:not|except|never|no|avoid|but not)\b", re.IGNORECASE)
_FILLER = frozenset(
    {
        "best",
        "time",
        "times",
        "is",
        "are",
        "in",
        "on",
        "the",
        "a",
        "an",
        "at",
        "ok",
        "okay",
        "fine",
        "good",
        "only",
        "please",
        "prefer",
        "prefers",
        "preferably",
        "ideally",
        "usually",
        "call",
        "calls",
        "text",
        "texts",
        "email",
        "emails",
        "phone",
        "contact",
        "me",
        "him",
        "her",
        "them",
        "and",
        "or",
        "any",
        "day",
        "days",
        "from",
        "around",
        "of",
        "during",
        "after",
        "before",
        "works",
        "work",
        "weekly",
        "also",
        "either",
    }
)


def _minutes(hour: str, minute: str | None, ampm: str | None) -> int | None:
    h, m = int(hour), int(minute or 0)
    if m >= 60:
        return None
    suffix = (ampm or "").replace(".", "").lower()
    if suffix:
        if not 1 <= h <= 12:
            return None
        h = h % 12 + (12 if suffix == "pm" else 0)
    elif h > 24:
        return None
    return min(h * 60 + m, DAY)


def _range(m: re.Match[str]) -> Window | None:
    """``2-4pm`` (pm for both), ``9-5`` (a working day), ``11am-1`` (into the afternoon)."""
    h1, m1, a1, h2, m2, a2 = m.groups()
    if a2 and not a1 and int(h1) <= 12:
        # "2-4pm": the start shares the end's half of the day unless that makes it later.
        start = _minutes(h1, m1, a2)
        if start is not None and (end := _minutes(h2, m2, a2)) is not None and start >= end:
            start = _minutes(h1, m1, "am")
    else:
        start = _minutes(h1, m1, a1)
    end = _minutes(h2, m2, a2)
    if start is None or end is None:
        return None
    if end <= start and not a2 and end + 12 * 60 > start:
        end += 12 * 60  # "9-5" means 9am to 5pm
    if end <= start:
        return None
    return (start, end)


def _clause(text: str) -> tuple[Rule | None, bool, str]:
    """One comma-separated part: (rule, understood, leftover words)."""
    t = f" {text.lower()} "
    days: set[int] = set()
    excluded: set[int] = set()
    windows: list[Window] = []
    anytime = False

    def cut(match: re.Match[str]) -> str:
        return " " * (match.end() - match.start())

    # "not Mondays", "except Fridays": days to leave out.
    for neg in list(_NEGATION.finditer(t)):
        tail = t[neg.end() :]
        found = re.match(
            rf"\s*(?:on\s+)?({_DAY_WORD}(?:\s*(?:,|and|or)\s*{_DAY_WORD})*)", tail, re.IGNORECASE
        )
        if not found:
            return None, False, text
        for word in re.findall(_DAY_WORD, found.group(1), re.IGNORECASE):
            excluded.add(_DAY_NAMES[word.lower().rstrip(".").rstrip("s") or word.lower()])
        t = t[: neg.start()] + " " * (neg.end() - neg.start() + found.end()) + t[neg.end() + found.end() :]
    for m in _DAY_RANGE.finditer(t):
        a = _day(m.group(1))
        b = _day(m.group(2))
        span = range(a, b + 1) if a <= b else [*range(a, 7), *range(0, b + 1)]
        days.update(span)
    t = _DAY_RANGE.sub(cut, t)
    for pattern, group in _GROUPS:
        if pattern.search(t):
            days.update(group)
            t = pattern.sub(cut, t)
    for m in re.finditer(_DAY_WORD, t, re.IGNORECASE):
        days.add(_day(m.group(0)))
    t = re.sub(_DAY_WORD, cut, t, flags=re.IGNORECASE)
    for m in _RANGE.finditer(t):
        w = _range(m)
        if w is None:
            return None, False, text
        windows.append(w)
    t = _RANGE.sub(cut, t)
    for m in _AFTER.finditer(t):
        at = _minutes(m.group(2), m.group(3), m.group(4))
        if at is None:
            return None, False, text
        word = m.group(1).lower()
        if word in {"after", "from"}:
            windows.append((at, DAY))
        elif word in {"before", "until", "till", "by"}:
            windows.append((0, at))
        else:
            windows.append((at, min(at + 60, DAY)))
    t = _AFTER.sub(cut, t)
    for m in re.finditer(_PART_WORD, t, re.IGNORECASE):
        windows.append(_PARTS[m.group(0).lower().removesuffix("s")])
    t = re.sub(_PART_WORD, cut, t, flags=re.IGNORECASE)
    for m in _LONE.finditer(t):
        if m.group(3) or m.group(2):  # "3pm", "15:00": an hour from then
            at = _minutes(m.group(1), m.group(2), m.group(3))
            if at is None:
                return None, False, text
            windows.append((at, min(at + 60, DAY)))
            t = t[: m.start()] + cut(m) + t[m.end() :]
    if _ANY.search(t):
        anytime = True
        t = _ANY.sub(cut, t)
    leftover = [w for w in re.findall(r"[a-z0-9]+", t) if w not in _FILLER]
    understood = bool(days or windows or anytime or excluded)
    if leftover or not understood:
        return None, False, " ".join(leftover) or text
    chosen = frozenset(days or ALL_DAYS) - excluded
    return Rule(chosen, tuple(sorted(windows)) or ((0, DAY),)), True, ""


def _day(word: str) -> int:
    w = word.lower().rstrip(".")
    return _DAY_NAMES.get(w, _DAY_NAMES.get(w.removesuffix("s"), 0))


def parse_best_time(text: str) -> Availability | None:
    """Free text into weekly slots; ``None`` when any part cannot be read.

    ``mornings`` -> every day 9-12; ``after 5pm`` -> 17:00 to midnight;
    ``weekends`` -> Saturday and Sunday, all day; ``Tue 2-4pm`` -> Tuesday 14-16;
    ``Mon, Wed mornings`` -> Monday and Wednesday mornings (a part naming only days
    takes the times of the part after it). Blank means any time.
    """
    raw = " ".join(str(text or "").split())
    if not raw:
        return ANYTIME
    parts = re.split(r"[,;/&+]|\bor\b", raw, flags=re.IGNORECASE)
    rules: list[Rule] = []
    pending_days: frozenset[int] | None = None
    for part in parts:
        if not part or not part.strip():
            continue
        rule, ok, _left = _clause(part)
        if not ok or rule is None:
            return None
        days_only = rule.windows == ((0, DAY),) and rule.days != ALL_DAYS and not _ANY.search(part)
        if pending_days is not None:
            if not days_only and rule.days != ALL_DAYS:
                rule = Rule(rule.days | pending_days, rule.windows)
            else:
                rules.append(Rule(pending_days, ((0, DAY),)))
            pending_days = None
        if days_only:
            pending_days = rule.days
            continue
        rules.append(rule)
    if pending_days is not None:
        rules.append(Rule(pending_days, ((0, DAY),)))
    if not rules or all(not r.days for r in rules):
        return None
    return Availability(tuple(rules), raw)


def parse_quiet_hours(text: str) -> Window | None:
    """``20:00-09:00`` -> (1200, 540): the window (possibly across midnight) in which
    nothing is suggested. Blank -> no quiet hours; unreadable -> None."""
    raw = str(text or "").strip().lower()
    if not raw or raw in {"none", "no", "-"}:
        return (0, 0)
    m = re.fullmatch(rf"{_TIME}\s*(?:-|–|to|until)\s*{_TIME}", raw)
    if not m:
        return None
    start = _minutes(m.group(1), m.group(2), m.group(3))
    end = _minutes(m.group(4), m.group(5), m.group(6))
    if start is None or end is None:
        return None
    return (start % DAY, end % DAY)


def allowed_windows(quiet: Window) -> tuple[Window, ...]:
    """The hours of a day outside the quiet window."""
    start, end = quiet
    if start == end:
        return ((0, DAY),)
    if start > end:  # across midnight: 20:00-09:00 leaves 09:00-20:00
        return ((end, start),)
    return tuple(w for w in ((0, start), (end, DAY)) if w[0] < w[1])


def next_send_time(
    availability: Availability, now: datetime, quiet: Window, *, step_minutes: int = 15
) -> datetime | None:
    """The first moment after ``now`` (rounded up to ``step_minutes``) inside one of
    the customer's slots and outside the quiet hours, within two weeks; ``None`` if
    the slots lie wholly inside the quiet hours."""
    allowed = allowed_windows(quiet)
    minute_now = now.hour * 60 + now.minute
    earliest_today = -(-(minute_now + 1) // step_minutes) * step_minutes
    for offset in range(15):
        day: date = now.date() + timedelta(days=offset)
        floor = earliest_today if offset == 0 else 0
        best: int | None = None
        for rule in availability.rules:
            if day.weekday() not in rule.days:
                continue
            for ws, we in rule.windows:
                for as_, ae in allowed:
                    start = max(ws, as_, floor)
                    start = -(-start // step_minutes) * step_minutes
                    if start < min(we, ae) and (best is None or start < best):
                        best = start
        if best is not None and best < DAY:
            return datetime.combine(day, time(best // 60, best % 60))
    return None
