"""Values in and out of cells: what typing a value stores (USER_ENTERED: numbers, dates,
percentages, formulas), plain arithmetic formulas, and how a stored value is rendered
(UNFORMATTED_VALUE, FORMATTED_VALUE, FORMULA) into a ValueRange."""

from __future__ import annotations

import ast
import operator
import re
from datetime import datetime
from typing import Any

from sheet_crm.serial import datetime_to_serial

from .formats import format_number, num
from .model import Box, Sheet

_ARITH = {ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul, ast.Div: operator.truediv}
_ARITH |= {ast.Pow: operator.pow}


def arith(formula: str) -> Any:
    """Evaluate a formula that is plain arithmetic (``= 1 / 1024``); anything else is left
    unevaluated (this server is not a spreadsheet engine)."""

    def ev(node: ast.AST) -> float:
        if isinstance(node, ast.Constant) and isinstance(node.value, int | float):
            return float(node.value)
        if isinstance(node, ast.BinOp) and type(node.op) in _ARITH:
            return float(_ARITH[type(node.op)](ev(node.left), ev(node.right)))
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
            return -ev(node.operand)
        raise ValueError(formula)

    try:
        return num(ev(ast.parse(formula.strip().replace("^", "**"), mode="eval").body))
    except (ValueError, SyntaxError, ZeroDivisionError, TypeError):
        return "#NAME?"


_DATE_INPUTS = ("%Y-%m-%d", "%m/%d/%Y", "%Y/%m/%d", "%m/%d/%Y %H:%M:%S", "%Y-%m-%d %H:%M:%S")


def parse_user_entered(value: Any) -> tuple[Any, str | None, dict[str, Any] | None]:
    """What typing ``value`` into a cell stores: (value, formula, number format)."""
    if not isinstance(value, str):
        return value, None, None
    text = value
    if text.startswith("'"):
        return text[1:], None, None
    if text.startswith("=") and len(text) > 1:
        return arith(text[1:]), text, None
    stripped = text.strip()
    if stripped.upper() in {"TRUE", "FALSE"}:
        return stripped.upper() == "TRUE", None, None
    if re.fullmatch(r"[-+]?\d+(\.\d+)?([eE][-+]?\d+)?", stripped):
        return num(float(stripped)), None, None
    if re.fullmatch(r"[-+]?\d{1,3}(,\d{3})+(\.\d+)?", stripped):
        dec = "." in stripped
        return (
            num(float(stripped.replace(",", ""))),
            None,
            {
                "type": "NUMBER",
                "pattern": "#,##0.00" if dec else "#,##0",
            },
        )
    if re.fullmatch(r"[-+]?\d+(\.\d+)?%", stripped):
        return num(float(stripped[:-1]) / 100), None, {"type": "PERCENT", "pattern": "0%"}
    for fmt in _DATE_INPUTS:
        try:
            when = datetime.strptime(stripped, fmt)
        except ValueError:
            continue
        serial = datetime_to_serial(when, "sheets")
        kind = "DATE_TIME" if " " in stripped else "DATE"
        pattern = "M/d/yyyy H:mm:ss" if kind == "DATE_TIME" else "M/d/yyyy"
        if fmt.startswith("%Y-"):
            pattern = "yyyy-mm-dd" + (" h:mm:ss" if kind == "DATE_TIME" else "")
        return num(serial), None, {"type": kind, "pattern": pattern}
    return text, None, None


def render(sheet: Sheet, r: int, c: int, value_render: str, date_render: str = "SERIAL_NUMBER") -> Any:
    value = sheet.get(r, c)
    if value_render == "FORMULA" and (r, c) in sheet.formulas:
        return sheet.formulas[(r, c)]
    if value is None:
        return ""
    if isinstance(value, bool):
        return value if value_render != "FORMATTED_VALUE" else ("TRUE" if value else "FALSE")
    if isinstance(value, int | float):
        fmt = sheet.number_format(r, c)
        is_date = bool(fmt) and fmt.get("type") in {"DATE", "DATE_TIME", "TIME"}  # type: ignore[union-attr]
        if value_render == "FORMATTED_VALUE" or (is_date and date_render == "FORMATTED_STRING"):
            return format_number(value, fmt)
        return num(value)
    return value


def trim(rows: list[list[Any]]) -> list[list[Any]]:
    """Google leaves out trailing empty cells of each row and trailing empty rows."""
    out = []
    for row in rows:
        n = len(row)
        while n and row[n - 1] == "":
            n -= 1
        out.append(row[:n])
    while out and not out[-1]:
        out.pop()
    return out


def value_range(box: Box, value_render: str, date_render: str, major: str = "ROWS") -> dict[str, Any]:
    r0, r1, c0, c1 = box.clipped()
    sheet = box.sheet
    r_end = min(r1, len(sheet.cells))
    rows = [[render(sheet, r, c, value_render, date_render) for c in range(c0, c1)] for r in range(r0, r_end)]
    if major == "COLUMNS":
        width = max((len(trim([row])[0]) if trim([row]) else 0 for row in rows), default=0)
        rows = [[row[c] if c < len(row) else "" for row in rows] for c in range(width)]
    out: dict[str, Any] = {"range": box.a1(), "majorDimension": major}
    trimmed = trim(rows)
    if trimmed:
        out["values"] = trimmed
    return out
