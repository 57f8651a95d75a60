"""Cell formats as Google keeps them: the spreadsheet's default format and theme, colours
stored at 8 bits a channel and mirrored into their ``...Style`` twins, the fields a
repeatCell mask names, and how a number shows in a (small subset of) number formats."""

from __future__ import annotations

import copy
import math
from datetime import datetime
from typing import Any

import numpy

from sheet_crm.serial import serial_to_datetime

from .masks import parse_mask

# The spreadsheet-level defaults Google returns for a new spreadsheet (en_US, Etc/GMT).
DEFAULT_FORMAT: dict[str, Any] = {
    "backgroundColor": {"red": 1, "green": 1, "blue": 1},
    "padding": {"top": 2, "right": 3, "bottom": 2, "left": 3},
    "verticalAlignment": "BOTTOM",
    "wrapStrategy": "OVERFLOW_CELL",
    "textFormat": {
        "foregroundColor": {},
        "fontFamily": "arial,sans,sans-serif",
        "fontSize": 10,
        "bold": False,
        "italic": False,
        "strikethrough": False,
        "underline": False,
        "foregroundColorStyle": {"rgbColor": {}},
    },
    "backgroundColorStyle": {"rgbColor": {"red": 1, "green": 1, "blue": 1}},
}
_THEME_COLORS = [
    ("TEXT", {}),
    ("BACKGROUND", {"red": 1, "green": 1, "blue": 1}),
    ("ACCENT1", {"red": 0.25882354, "green": 0.52156866, "blue": 0.95686275}),
    ("ACCENT2", {"red": 0.91764706, "green": 0.2627451, "blue": 0.20784314}),
    ("ACCENT3", {"red": 0.9843137, "green": 0.7372549, "blue": 0.015686275}),
    ("ACCENT4", {"red": 0.20392157, "green": 0.65882355, "blue": 0.3254902}),
    ("ACCENT5", {"red": 1, "green": 0.42745098, "blue": 0.003921569}),
    ("ACCENT6", {"red": 0.27450982, "green": 0.7411765, "blue": 0.7764706}),
    ("LINK", {"red": 0.06666667, "green": 0.33333334, "blue": 0.8}),
]
THEME = {
    "primaryFontFamily": "Arial",
    "themeColors": [{"colorType": t, "color": {"rgbColor": c}} for t, c in _THEME_COLORS],
}


def format_fields(fields: str) -> list[str]:
    """The ``userEnteredFormat`` subfields a repeatCell field mask names:
    ``"userEnteredFormat.numberFormat"`` -> ``["numberFormat"]``,
    ``"userEnteredFormat(textFormat,backgroundColor)"`` -> both. Fields the mask names
    and the request's cell leaves out are cleared, as Google does."""
    return list(parse_mask(fields).get("userEnteredFormat", {}))


def format_number(value: float, fmt: dict[str, Any] | None) -> str:
    """How Google shows a number with a (small subset of) number formats."""
    kind = (fmt or {}).get("type", "")
    pattern = (fmt or {}).get("pattern", "")
    if kind in {"DATE", "DATE_TIME", "TIME"}:
        when = serial_to_datetime(float(value), "sheets", to_second=False)
        return format_date(when, pattern or {"DATE": "M/d/yyyy", "TIME": "h:mm:ss am/pm"}.get(kind, ""))
    if kind == "PERCENT":
        decimals = len(pattern.split(".")[1].rstrip("%")) if "." in pattern else 0
        return f"{value * 100:.{decimals}f}%"
    if pattern and ("#" in pattern or "0" in pattern):
        decimals = len(pattern.split(".")[1]) if "." in pattern else 0
        return f"{value:,.{decimals}f}" if "," in pattern else f"{value:.{decimals}f}"
    if isinstance(value, int) or float(value).is_integer():
        return str(int(value))
    text = f"{value:.10g}"
    return text if "e" not in text else f"{value:.2E}".replace("E+", "E+")


def format_date(when: datetime, pattern: str) -> str:
    if not pattern:
        pattern = "M/d/yyyy H:mm:ss"
    tokens = [
        ("yyyy", "%Y"),
        ("yy", "%y"),
        ("mmmm", "%B"),
        ("mmm", "%b"),
        ("dddd", "%A"),
        ("ddd", "%a"),
        ("dd", "%d"),
        ("hh", "%H"),
        ("ss", "%S"),
    ]
    out = ""
    i = 0
    low = pattern
    while i < len(low):
        for tok, code in tokens:
            if low[i : i + len(tok)].lower() == tok:
                out += when.strftime(code)
                i += len(tok)
                break
        else:
            ch = low[i]
            nxt = low[i : i + 2]
            if nxt.lower() == "mm":
                # minutes after an hour, month otherwise
                out += f"{when.minute:02d}" if ":" in low[max(0, i - 3) : i] else f"{when.month:02d}"
                i += 2
            elif ch in "mM":
                out += str(when.minute) if ":" in low[max(0, i - 3) : i] else str(when.month)
                i += 1
            elif ch in "dD":
                out += str(when.day)
                i += 1
            elif ch in "hH":
                out += str(when.hour)
                i += 1
            elif ch == "s":
                out += str(when.second)
                i += 1
            else:
                out += ch
                i += 1
    return out


def colour(rgb: dict[str, Any] | None) -> dict[str, Any]:
    """A colour as Google keeps it: 8 bits a channel (truncated), sent as float32, zero
    channels left out (proto3)."""
    out: dict[str, Any] = {}
    for channel, v in (rgb or {}).items():
        if channel == "alpha":
            q = float(v)
        else:
            q = math.floor(float(v) * 255 + 1e-6) / 255
        if q:
            out[channel] = num(float(str(numpy.float32(q))))
    return out


def styled(fmt: dict[str, Any]) -> dict[str, Any]:
    """A cell format as Google keeps it: colours 8-bit, each colour mirrored into its
    ``...Style`` twin (backgroundColor -> backgroundColorStyle.rgbColor)."""
    out = copy.deepcopy(fmt)
    pairs = [(out, "backgroundColor", "backgroundColorStyle")]
    if isinstance(out.get("textFormat"), dict):
        pairs.append((out["textFormat"], "foregroundColor", "foregroundColorStyle"))
    for holder, plain, style in pairs:
        if plain in holder:
            c = colour(holder[plain])
            holder[plain] = c
            holder[style] = {"rgbColor": dict(c)}
        elif isinstance(holder.get(style), dict) and "rgbColor" in holder[style]:
            c = colour(holder[style]["rgbColor"])
            holder[style] = {"rgbColor": c}
            holder[plain] = dict(c)
    return out


def tab_colour(props: dict[str, Any], fields: list[str]) -> None:
    """Google mirrors tabColor and tabColorStyle (the newer name) into each other."""
    style_set = any(f.split(".")[0] == "tabColorStyle" for f in fields)
    plain_set = any(f.split(".")[0] == "tabColor" for f in fields)
    if style_set or (fields == list(props) and "tabColorStyle" in props):
        rgb = (props.get("tabColorStyle") or {}).get("rgbColor")
    elif plain_set:
        rgb = props.get("tabColor")
    else:
        return
    props.pop("tabColor", None)
    props.pop("tabColorStyle", None)
    if rgb is not None:
        c = colour(rgb)
        props["tabColor"] = c
        props["tabColorStyle"] = {"rgbColor": dict(c)}


def num(v: float) -> int | float:
    if isinstance(v, float) and v.is_integer() and abs(v) < 2**53:
        return int(v)
    return v
