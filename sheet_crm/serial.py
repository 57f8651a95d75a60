"""Date serials: how spreadsheets store a date, as a count of days since an epoch.

Three counts are in use, and each backend (and the owner's typed numbers) meets one:

- ``"1900"``, Excel's usual date system: serial 1 is 1900-01-01. Excel, like Lotus 1-2-3
  before it, counts a 29 February 1900 that never was (serial 60), so from 1 March 1900
  (serial 61) a serial is days since 1899-12-30, and before that days since 1899-12-31.
- ``"1904"``, Excel's other system (old Mac workbooks; ``date1904`` in workbook.xml):
  days since 1904-01-01.
- ``"sheets"``, Google Sheets: days since 1899-12-30 for every date, with no phantom day,
  so it agrees with ``"1900"`` from 1 March 1900 on.

A fraction of a day is the time of day, in the spreadsheet's own wall-clock time.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Literal, overload

DateSystem = Literal["1900", "1904", "sheets"]

DAY = timedelta(days=1)
_DEC_30_1899 = datetime(1899, 12, 30)
_DEC_31_1899 = datetime(1899, 12, 31)
_JAN_1_1900 = datetime(1900, 1, 1)
_MAR_1_1900 = datetime(1900, 3, 1)
_JAN_1_1904 = datetime(1904, 1, 1)
_LEAP_DAY_SERIAL = 60  # Excel's 29 February 1900


def serial_to_datetime(serial: float, system: DateSystem = "1900", *, to_second: bool = True) -> datetime:
    """The date (and time) a serial stands for, as a naive datetime.

    ``to_second`` rounds to the second, as a spreadsheet shows it: an .xlsx stores about
    15 significant digits, so 08:00 can come back as 07:59:59.999996. Google sends exact
    doubles, and its backend keeps what was written to the microsecond (``to_second=False``).
    Excel's 29 February 1900 (serial 60) reads as 28 February, the day it stands in for.
    Raises OverflowError or ValueError outside the years 1-9999 (or for NaN/infinity)."""
    if system == "1904":
        base = _JAN_1_1904
    elif system == "1900" and serial < _LEAP_DAY_SERIAL:
        base = _DEC_31_1899
    else:
        base = _DEC_30_1899
    if to_second:
        return base + timedelta(seconds=round(serial * 86400))
    return base + timedelta(days=serial)


@overload
def datetime_to_serial(value: date | datetime, system: Literal["sheets"]) -> int | float: ...
@overload
def datetime_to_serial(
    value: date | datetime, system: Literal["1900", "1904"] = ...
) -> int | float | None: ...


def datetime_to_serial(value: date | datetime, system: DateSystem = "1900") -> int | float | None:
    """The serial of a date or datetime (an int for a whole day), or None when the date
    system cannot show it: Excel has no date before 1900-01-01 (``"1900"``) or 1904-01-01
    (``"1904"``); Google takes older dates as negative serials. A time zone is dropped: the
    serial is the wall-clock time it carries."""
    if isinstance(value, datetime):
        when = value.replace(tzinfo=None)
    else:
        when = datetime(value.year, value.month, value.day)
    if system == "1904":
        if when < _JAN_1_1904:
            return None
        serial = (when - _JAN_1_1904) / DAY
    elif system == "1900":
        if when < _JAN_1_1900:
            return None
        serial = (when - (_DEC_31_1899 if when < _MAR_1_1900 else _DEC_30_1899)) / DAY
    else:
        serial = (when - _DEC_30_1899) / DAY
    return int(serial) if serial.is_integer() else serial
