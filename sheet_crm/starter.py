"""Starter workbooks: a declarative spec per kind of business -> a new .xlsx.

The specs live in ``sheet_templates/`` (TOML, one file per kind of business, most of
it shared through ``_base.toml``). A spec says which tabs a workbook has, their
columns (type, width, help text, dropdown choices) and a few example rows. This
module reads and checks the specs (a bad spec is a ``ConfigError`` naming the file
and the key) and writes brand-new workbooks from them with openpyxl. It never opens
an owner's existing workbook: ``build_workbook`` refuses to overwrite one unless told.

``write_workbook`` is shared with ``demo.py``: the demo is the shop spec with
generated rows instead of the examples.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from functools import cache
from pathlib import Path
from typing import Any, Literal

from openpyxl import Workbook as XlWorkbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.dimensions import ColumnDimension
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from .config import Settings, load_settings
from .errors import ConfigError, UsageError
from .findings import FindingList
from .workbook import TOOL_TABS, Cell, Workbook, build_table, header_key

ColumnType = Literal["text", "email", "phone", "date", "money", "number", "yes-no", "choice", "list"]

YES_NO = ["Yes", "No"]

# How a column type is described in the About tab, and the cell format a new
# workbook gives the whole column (text columns are '@' so Excel keeps the leading
# zero of 07700 900123 or 01234 instead of turning them into numbers).
TYPE_LABELS: dict[str, str] = {
    "text": "Text",
    "email": "Email address",
    "phone": "Phone number",
    "date": "Date",
    "money": "Amount",
    "number": "Number",
    "yes-no": "Yes / No",
    "choice": "Pick from the list",
    "list": "List (separate with ;)",
}
NUMBER_FORMATS: dict[str, str] = {
    "text": "@",
    "email": "@",
    "phone": "@",
    "choice": "@",
    "list": "@",
    "yes-no": "@",
    "date": "yyyy-mm-dd",
    "money": "#,##0.00",
    "number": "General",
}

# Where the specs are: an explicit folder, else sheet_templates/ beside the package
# (a source checkout or an editable install), else an installed `sheet_templates`
# package (a wheel that ships the specs as package data).
TEMPLATES_ENV = "SHEET_CRM_TEMPLATES"


# ---------------------------------------------------------------- the spec


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ColumnSpec(_Strict):
    """One column of a tab: what the owner types there and how the sheet helps."""

    header: str = Field(min_length=1)
    type: ColumnType = "text"
    width: float | None = Field(None, gt=0, le=255)
    help: str = Field(min_length=1)
    choices: list[str] = Field(default_factory=list)
    min: float | None = None
    max: float | None = None
    wrap: bool = False

    @model_validator(mode="after")
    def _choices_fit(self) -> ColumnSpec:
        if self.type == "yes-no" and not self.choices:
            self.choices = list(YES_NO)
        if self.type == "choice" and not self.choices:
            raise ValueError(f"the column '{self.header}' is a choice column but has no choices")
        if self.choices and self.type not in ("choice", "yes-no"):
            raise ValueError(f"only choice and yes-no columns have choices ('{self.header}' is {self.type})")
        for choice in self.choices:
            if "," in choice or '"' in choice:
                raise ValueError(f"the choice '{choice}' cannot contain a comma or a double quote")
        if len(list_formula(self.choices)) > 255:
            raise ValueError(f"the choices of '{self.header}' are too long for a dropdown (255 characters)")
        if (self.min is not None or self.max is not None) and self.type not in ("number", "money"):
            raise ValueError(f"min and max are only for number and money columns ('{self.header}')")
        return self

    @property
    def number_format(self) -> str:
        return NUMBER_FORMATS[self.type]


class TabSpec(_Strict):
    """One owner tab: its columns in order, what it is for, and example rows keyed by header."""

    name: str = Field(min_length=1, max_length=31)
    about: str = Field(min_length=1)
    columns: list[ColumnSpec] = Field(min_length=1)
    rows: list[dict[str, Any]] = Field(default_factory=list)
    key: list[str] = Field(default_factory=list)

    @model_validator(mode="after")
    def _rows_fit_columns(self) -> TabSpec:
        seen: dict[str, str] = {}
        for column in self.columns:
            k = header_key(column.header)
            if k in seen:
                raise ValueError(f"two columns called '{seen[k]}' and '{column.header}'")
            seen[k] = column.header
        by_header = {c.header: c for c in self.columns}
        for k in self.key:
            if k not in by_header:
                raise ValueError(f"key column '{k}' is not a column of {self.name}")
        for n, row in enumerate(self.rows, 1):
            for header, value in row.items():
                column = by_header.get(header)
                if column is None:
                    raise ValueError(
                        f"example row {n} has a value for '{header}', which is not a column of "
                        f"{self.name} (columns: {', '.join(by_header)})"
                    )
                problem = _value_problem(column, value)
                if problem:
                    raise ValueError(f"example row {n}, column '{header}': {problem}")
        return self

    def column(self, header: str) -> ColumnSpec | None:
        return next((c for c in self.columns if c.header == header), None)

    @property
    def headers(self) -> list[str]:
        return [c.header for c in self.columns]

    def grid_rows(self) -> list[list[Cell]]:
        """The example rows as cells in column order."""
        return [[row.get(h) for h in self.headers] for row in self.rows]


class TemplateSpec(_Strict):
    """A whole starter workbook for one kind of business."""

    name: str = Field(pattern=r"^[a-z][a-z0-9_-]*$")
    title: str = Field(min_length=1)
    description: str = Field(min_length=1)
    tabs: list[TabSpec] = Field(min_length=1)
    source: str = ""  # the file(s) it was read from, for messages

    @field_validator("tabs")
    @classmethod
    def _customers_first_and_unique(cls, tabs: list[TabSpec]) -> list[TabSpec]:
        names = [header_key(t.name) for t in tabs]
        if len(set(names)) != len(names):
            raise ValueError("two tabs have the same name")
        if "customers" not in names:
            raise ValueError("there is no Customers tab")
        clash = {header_key(t) for t in (*TOOL_TABS, "About")} & set(names)
        if clash:
            raise ValueError(f"tab names taken by sheet-crm itself: {', '.join(sorted(clash))}")
        return tabs

    def tab(self, name: str) -> TabSpec | None:
        return next((t for t in self.tabs if header_key(t.name) == header_key(name)), None)


# The raw file: a business file may `extends` another and give only what differs.
class _RawTab(_Strict):
    name: str
    about: str | None = None
    columns: list[dict[str, Any]] | None = None
    extra_columns: list[dict[str, Any]] = Field(default_factory=list)
    rows: list[dict[str, Any]] | None = None
    key: list[str] | None = None


class _RawSpec(_Strict):
    name: str
    title: str
    description: str
    extends: str | None = None
    tabs: list[_RawTab] = Field(default_factory=list)


def _value_problem(column: ColumnSpec, value: Any) -> str:
    """Why an example value does not suit its column ('' when it does)."""
    if value is None or value == "":
        return ""
    kind = column.type
    if kind == "date" and not isinstance(value, date):
        return f"'{value}' should be a TOML date such as 2025-03-14"
    if kind in ("money", "number") and (isinstance(value, bool) or not isinstance(value, int | float)):
        return f"'{value}' should be a number"
    if kind in ("choice", "yes-no") and str(value).casefold() not in {c.casefold() for c in column.choices}:
        return f"'{value}' is not one of the choices ({', '.join(column.choices)})"
    if isinstance(value, dict | list):
        return "should be a single value"
    return ""


def list_formula(choices: Sequence[str]) -> str:
    return '"' + ",".join(choices) + '"'


# ---------------------------------------------------------------- finding and loading


@dataclass(frozen=True)
class TemplateInfo:
    """What `sheet-crm templates` lists."""

    name: str
    title: str
    description: str
    path: Path


def templates_dir() -> Path:
    """The folder holding the template specs (see ``TEMPLATES_ENV``)."""
    env = os.environ.get(TEMPLATES_ENV)
    if env:
        return Path(env)
    beside = Path(__file__).resolve().parent.parent / "sheet_templates"
    if beside.is_dir():
        return beside
    try:
        from importlib.resources import files

        installed = Path(str(files("sheet_templates")))
        if installed.is_dir():
            return installed
    except (ModuleNotFoundError, TypeError):
        pass
    raise ConfigError(
        "The starter templates (sheet_templates/) cannot be found.",
        f"Reinstall sheet-crm, or set {TEMPLATES_ENV} to the folder that holds the template files.",
    )


def _spec_files(folder: Path) -> dict[str, Path]:
    return {p.stem: p for p in sorted(folder.glob("*.toml"))}


def list_templates() -> list[TemplateInfo]:
    """Every template a workbook can be built from (files starting with '_' are shared parts)."""
    folder = templates_dir()
    out = []
    for stem, path in _spec_files(folder).items():
        if stem.startswith("_"):
            continue
        spec = load_template(stem)
        out.append(TemplateInfo(spec.name, spec.title, spec.description, path))
    return out


def load_template(name: str) -> TemplateSpec:
    """The checked spec of one template, with what it extends merged in."""
    folder = templates_dir()
    return _load(folder.resolve(), name)


@cache
def _load(folder: Path, name: str) -> TemplateSpec:
    files = _spec_files(folder)
    if name not in files:
        choices = ", ".join(s for s in files if not s.startswith("_")) or "(none)"
        raise UsageError(
            f"There is no starter template called '{name}'.",
            f"Use one of: {choices} (`sheet-crm templates` describes them).",
        )
    chain: list[tuple[Path, _RawSpec]] = []
    current: str | None = name
    while current is not None:
        if any(p.stem == current for p, _ in chain):
            raise ConfigError(
                f"The template '{name}' extends itself through '{current}'.",
                "Remove the loop from the `extends` lines.",
                where=str(files[name]),
            )
        if current not in files:
            raise ConfigError(
                f"The template extends '{current}', but there is no {current}.toml.",
                f"Fix the `extends` line (templates: {', '.join(files)}).",
                where=str(chain[-1][0]),
            )
        path = files[current]
        chain.append((path, _read_raw(path)))
        current = chain[-1][1].extends
    merged: dict[str, Any] | None = None
    for path, raw in reversed(chain):
        merged = _merge(merged, raw, path)
    assert merged is not None
    where = " + ".join(str(p) for p, _ in reversed(chain))
    merged["source"] = where
    try:
        spec = TemplateSpec.model_validate(merged)
    except ValidationError as e:
        raise ConfigError(
            f"The template '{name}' is not valid: {_explain(e, merged)}",
            "Fix the spec file (see sheet_templates/README.md for the format).",
            where=str(chain[0][0]),
        ) from None
    _check_settings(spec, chain[0][0])
    return spec


def _read_raw(path: Path) -> _RawSpec:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as e:
        raise ConfigError(
            f"The template file is not valid TOML: {e}.",
            "Fix the line named (strings need quotes, dates look like 2025-03-14).",
            where=str(path),
        ) from None
    except OSError as e:
        raise ConfigError(
            f"The template file cannot be read: {e}.", "Check the file.", where=str(path)
        ) from e
    try:
        return _RawSpec.model_validate(data)
    except ValidationError as e:
        raise ConfigError(
            f"The template file is not valid: {_explain(e, data)}",
            "Fix the key named (see sheet_templates/README.md for the format).",
            where=str(path),
        ) from None


def _explain(error: ValidationError, data: Any) -> str:
    """The first problem of a validation error as 'tabs > Customers > columns > Role > type: ...',
    with list positions replaced by the tab name or column header they point at."""
    first = error.errors()[0]
    parts: list[str] = []
    node: Any = data
    for step in first["loc"]:
        label = str(step)
        if isinstance(node, dict):
            node = node.get(step) if isinstance(step, str) else None
        elif isinstance(node, list) and isinstance(step, int) and 0 <= step < len(node):
            node = node[step]
            if isinstance(node, dict):
                label = str(node.get("name") or node.get("header") or f"item {step + 1}")
            else:
                label = f"item {step + 1}"
        else:
            node = None
        parts.append(label)
    message = first["msg"].removeprefix("Value error, ")
    return f"{' > '.join(parts)}: {message}" if parts else message


def _merge(base: dict[str, Any] | None, raw: _RawSpec, path: Path) -> dict[str, Any]:
    """Lay a spec file over what it extends: tabs by name; a tab's columns are replaced
    when given, `extra_columns` are added at the end; example rows are replaced,
    except in tabs with a `key` (Settings, Segments, Templates), where a row replaces
    the row with the same key and other rows are added."""
    out: dict[str, Any] = {
        "name": raw.name,
        "title": raw.title,
        "description": raw.description,
        "tabs": [dict(t) for t in (base or {}).get("tabs", [])],
    }
    index = {header_key(t["name"]): t for t in out["tabs"]}
    for tab in raw.tabs:
        target = index.get(header_key(tab.name))
        if target is None:
            target = {"name": tab.name, "columns": [], "rows": [], "key": []}
            out["tabs"].append(target)
            index[header_key(tab.name)] = target
        if tab.about is not None:
            target["about"] = tab.about
        if tab.columns is not None:
            target["columns"] = list(tab.columns)
        if tab.extra_columns:
            target["columns"] = [*target.get("columns", []), *tab.extra_columns]
        if tab.key is not None:
            target["key"] = list(tab.key)
        if tab.rows is not None:
            target["rows"] = _merge_rows(target.get("rows", []), tab.rows, target.get("key", []))
    return out


def _merge_rows(old: list[dict[str, Any]], new: list[dict[str, Any]], key: list[str]) -> list[dict[str, Any]]:
    if not key:
        return list(new)

    def k(row: Mapping[str, Any]) -> tuple[str, ...]:
        return tuple(header_key(row.get(h, "")) for h in key)

    rows = list(old)
    at = {k(r): i for i, r in enumerate(rows)}
    for row in new:
        if k(row) in at:
            rows[at[k(row)]] = {**rows[at[k(row)]], **row}
        else:
            at[k(row)] = len(rows)
            rows.append(row)
    return rows


def _check_settings(spec: TemplateSpec, path: Path) -> None:
    """Every Settings row must be a setting sheet-crm reads back, with a usable value:
    read the tab exactly as a run would and refuse the spec on any finding."""
    tab = spec.tab("Settings")
    if tab is None:
        return
    findings = FindingList()
    workbook = Workbook({"Settings": build_table("Settings", [tab.headers, *tab.grid_rows()])})
    load_settings(workbook, environ={}, findings=findings)
    if len(findings):
        first = next(iter(findings))
        raise ConfigError(
            f"The Settings rows of the template '{spec.name}' are not valid: {first.problem}",
            "Use the setting names of `sheet-crm settings` and values of the right kind.",
            where=str(path),
        )


def settings_descriptions(spec: TemplateSpec) -> dict[str, str]:
    """Setting text (as typed in the spec) -> what the setting does, from ``Settings``."""
    tab = spec.tab("Settings")
    if tab is None:
        return {}
    out: dict[str, str] = {}
    for row in tab.rows:
        name = str(row.get("Setting", ""))
        # "1" is a usable value for every kind of setting (text, number, yes/no), so
        # the origin map names the field this row sets.
        wb = Workbook({"Settings": build_table("Settings", [["Setting", "Value"], [name, "1"]])})
        _, origin = load_settings(wb, environ={}, findings=FindingList())
        field = next(iter(origin), None)
        if field:
            out[name] = Settings.model_fields[field].description or ""
    return out


# ---------------------------------------------------------------- writing


_BOLD = Font(bold=True)
_TITLE = Font(bold=True, size=14)
_HEAD_FILL = PatternFill("solid", fgColor="DDEBF7")
_WRAP = Alignment(wrap_text=True, vertical="top")
_TOP = Alignment(vertical="top")
_LAST_ROW = 1048576


def build_workbook(name: str, path: Path, *, overwrite: bool = False) -> Path:
    """Create a new workbook at ``path`` from the template ``name`` (see ``list_templates``)."""
    spec = load_template(name)
    return write_workbook(spec, Path(path), example_rows(spec), overwrite=overwrite)


def example_rows(spec: TemplateSpec) -> dict[str, list[list[Cell]]]:
    """Each tab's example rows as cells in column order; the Settings rows get their
    "What it does" text from the documented ``Settings`` when the spec leaves it blank."""
    rows = {tab.name: tab.grid_rows() for tab in spec.tabs}
    settings = spec.tab("Settings")
    if settings is not None and "What it does" in settings.headers:
        explain = settings_descriptions(spec)
        at = settings.headers.index("What it does")
        name_at = settings.headers.index("Setting")
        for line in rows[settings.name]:
            if not line[at]:
                line[at] = explain.get(str(line[name_at]), "")
    return rows


def write_workbook(
    spec: TemplateSpec,
    path: Path,
    rows: Mapping[str, Iterable[Sequence[Cell]]],
    *,
    overwrite: bool = False,
    title: str = "",
) -> Path:
    """Write a new workbook: the About tab, then each tab of ``spec`` with its header,
    column formats, dropdowns and ``rows[tab.name]`` (cells in column order).

    openpyxl builds the workbook (styles, widths, frozen header, dropdowns, About);
    the data rows are then streamed into the sheets' ``sheetData`` with the project's
    own cell writer, because openpyxl spends ~15-30 microseconds per cell and a 10k
    customer demo has half a million cells. Text is always written as text, never
    as a formula. Nothing is written at ``path`` until the whole file is ready."""
    path = Path(path)
    if path.suffix.lower() not in (".xlsx", ""):
        raise UsageError(
            f"{path} does not end in .xlsx; sheet-crm creates Excel workbooks.",
            f"Use a name such as {path.with_suffix('.xlsx').name}.",
        )
    if not path.suffix:
        path = path.with_suffix(".xlsx")
    if path.is_dir():
        raise UsageError(f"{path} is a folder.", "Give the path of a file ending in .xlsx.")
    if path.exists() and not overwrite:
        raise UsageError(
            f"{path} already exists; it was left as it is.",
            "Choose another file name, or add --force to replace it (its contents are lost).",
        )
    book = XlWorkbook(write_only=True)
    book.properties.title = title or spec.title
    book.properties.creator = "sheet-crm"
    _write_about(book, spec)
    data: dict[str, list[Sequence[Cell]]] = {}
    for tab in spec.tabs:
        data[tab.name] = list(rows.get(tab.name, ()))
        _write_tab(book, tab, len(data[tab.name]))
    tmp = path.with_name(f".{path.name}.tmp")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        book.save(tmp)
        _fill_rows(tmp, path, data)
    except OSError as e:
        from .errors import NotWritable

        raise NotWritable(
            f"The workbook cannot be written: {e.strerror or e}.",
            "Choose a folder you can write to.",
            where=str(path),
        ) from e
    finally:
        tmp.unlink(missing_ok=True)
    return path


def _write_tab(book: XlWorkbook, tab: TabSpec, count: int) -> None:
    """The tab's frame: column widths and formats (as column styles, so cells the owner
    types later get them too), dropdowns, the bold frozen header and its filter. The
    ``count`` data rows are added by ``_fill_rows``."""
    ws = book.create_sheet(tab.name)
    for i, column in enumerate(tab.columns, 1):
        letter = get_column_letter(i)
        dim = ColumnDimension(ws, index=letter, width=column.width or max(10, len(column.header) + 2))
        dim.number_format = column.number_format
        if column.wrap:
            dim.alignment = _WRAP
        ws.column_dimensions[letter] = dim
        dv = _validation(column)
        if dv is not None:
            dv.add(f"{letter}2:{letter}{_LAST_ROW}")
            ws.data_validations.append(dv)
    ws.freeze_panes = "A2"
    header = []
    for column in tab.columns:
        cell = WriteOnlyCell(ws, value=column.header)
        cell.font = _BOLD
        cell.fill = _HEAD_FILL
        header.append(cell)
    ws.append(header)
    ws.auto_filter.ref = f"A1:{get_column_letter(len(tab.columns))}{count + 1}"


_NS = {
    "m": "http://schemas.openxmlformats.org/spreadsheetml/2006/main",
    "r": "http://schemas.openxmlformats.org/officeDocument/2006/relationships",
    "pr": "http://schemas.openxmlformats.org/package/2006/relationships",
}


def _fill_rows(src: Path, dest: Path, data: Mapping[str, Sequence[Sequence[Cell]]]) -> None:
    """Copy the package ``src`` to ``dest`` (atomically), adding each tab's data rows
    after its header row. Each cell gets its column's style (date, amount, text)."""
    import xml.etree.ElementTree as ET
    import zipfile

    with zipfile.ZipFile(src) as zin:
        book = ET.fromstring(zin.read("xl/workbook.xml"))
        rels = ET.fromstring(zin.read("xl/_rels/workbook.xml.rels"))
        targets = {r.get("Id"): r.get("Target", "") for r in rels.findall("pr:Relationship", _NS)}
        parts: dict[str, str] = {}
        for sheet in book.iterfind("m:sheets/m:sheet", _NS):
            target = targets[sheet.get(f"{{{_NS['r']}}}id")].lstrip("/")
            parts[target if target.startswith("xl/") else f"xl/{target}"] = sheet.get("name", "")
        out = dest.with_name(f".{dest.name}.part")
        try:
            with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=6) as zout:
                for info in zin.infolist():
                    raw = zin.read(info.filename)
                    rows = data.get(parts.get(info.filename, ""))
                    if rows:
                        raw = _insert_rows(raw.decode("utf-8"), rows).encode("utf-8")
                    zout.writestr(info, raw, compress_type=zipfile.ZIP_DEFLATED)
            os.replace(out, dest)
        finally:
            out.unlink(missing_ok=True)


def _insert_rows(xml: str, rows: Sequence[Sequence[Cell]]) -> str:
    """A sheet's XML with ``rows`` as sheet rows 2.. before ``</sheetData>``."""
    import re

    from .backends.xlsx_write import StyleIds, cell_xml

    styles: dict[int, int] = {}
    for col in re.finditer(r"<col\b[^>]*>", xml):
        tag = col.group(0)
        lo, hi, st = (re.search(rf'\b{a}="(\d+)"', tag) for a in ("min", "max", "style"))
        if lo and hi and st:
            for c in range(int(lo.group(1)), int(hi.group(1)) + 1):
                styles[c - 1] = int(st.group(1))
    width = max((len(r) for r in rows), default=0)
    letters = [get_column_letter(i + 1) for i in range(width)]
    ids = StyleIds()
    out: list[str] = []
    for n, line in enumerate(rows, 2):
        cells = "".join(
            cell_xml(f"{letters[i]}{n}", v, ids, styles.get(i)) for i, v in enumerate(line) if v is not None
        )
        out.append(f'<row r="{n}">{cells}</row>')
    at = xml.index("</sheetData>")
    xml = xml[:at] + "".join(out) + xml[at:]
    # Readers size the sheet from <dimension> (openpyxl's streaming writer leaves it out).
    last_col = max(width, max(styles, default=-1) + 1, 1)
    dimension = f'<dimension ref="A1:{get_column_letter(last_col)}{len(rows) + 1}"/>'
    if "<dimension" not in xml and "<sheetViews" in xml:
        at = xml.index("<sheetViews")
        xml = xml[:at] + dimension + xml[at:]
    return xml


def _validation(column: ColumnSpec) -> DataValidation | None:
    """The dropdown or check a column gets; warnings rather than refusals where an
    owner may have a good reason to type something else."""
    prompt = column.help if len(column.help) <= 250 else column.help[:247] + "..."
    common: dict[str, Any] = {
        "allow_blank": True,
        "showErrorMessage": True,
        "showInputMessage": True,
        "promptTitle": column.header[:32],
        "prompt": prompt,
        "errorTitle": column.header[:32],
    }
    if column.type in ("choice", "yes-no"):
        return DataValidation(
            type="list",
            formula1=list_formula(column.choices),
            errorStyle="warning",
            error=f"Pick one of: {', '.join(column.choices)}."[:255],
            **common,
        )
    if column.type == "date":
        return DataValidation(
            type="date",
            operator="greaterThanOrEqual",
            formula1="1",  # 1900-01-01: anything that is a real date
            errorStyle="warning",
            error="Type a date, such as 2025-03-14.",
            **common,
        )
    if column.type in ("number", "money") and (column.min is not None or column.max is not None):
        if column.min is not None and column.max is not None:
            extra = {"operator": "between", "formula1": _num(column.min), "formula2": _num(column.max)}
            error = f"Type a number from {_num(column.min)} to {_num(column.max)}."
        elif column.min is not None:
            extra = {"operator": "greaterThanOrEqual", "formula1": _num(column.min)}
            error = f"Type a number of at least {_num(column.min)}."
        else:
            extra = {"operator": "lessThanOrEqual", "formula1": _num(column.max)}
            error = f"Type a number of at most {_num(column.max)}."
        return DataValidation(type="decimal", errorStyle="warning", error=error, **extra, **common)
    return None


def _num(x: float | None) -> str:
    assert x is not None
    return str(int(x)) if float(x).is_integer() else str(x)


def about_lines(spec: TemplateSpec) -> list[tuple[str, ...]]:
    """The About tab as rows of cells: a label in column A, the text in column B, and
    for the table of columns, the type and choices in C and D::

        A                     | B (wide, wrapped)                    | C         | D
        Retail shop: your ... |                                      |           |
                              | A shop or cafe with regulars ...     |           |
        How to use it         |                                      |           |
        1.                    | Replace the example rows ...         |           |
        The Customers tab     | One row per customer ...             |           |
        Column                | What to type                         | Type      | Choices
        Email                 | One email address ...                | Email ... |
    """
    lines: list[tuple[str, ...]] = [
        (f"{spec.title}: your customer workbook",),
        ("", spec.description),
        (),
        ("How to use it",),
        ("1.", "Replace the example rows in Customers with your own customers: one row each."),
        (
            "2.",
            "Add purchases to Orders and calls, emails and visits to Interactions (optional, but tiers, "
            "win-back and follow-ups need them).",
        ),
        ("3.", "Check the Settings tab: your business name, who messages are from, currency, country."),
        (
            "4.",
            f"Run `sheet-crm sync <this file>` (close the workbook in Excel first). sheet-crm adds its own "
            f"tabs: {', '.join(TOOL_TABS)}. Read them; type only in their decision columns (Decision in "
            f"Duplicates, Status and Notes in Outreach), because the rest is rewritten on each run.",
        ),
        (
            "5.",
            "Your tabs are never rewritten. The only cells sheet-crm fills in your tabs are blank "
            "Customer IDs, and what a merge you approved needs.",
        ),
        (
            "6.",
            "You may rename headers to your own words (E-mail, Surname, Mobile...) and add columns; "
            "sheet-crm still recognises them.",
        ),
        (),
    ]
    for tab in spec.tabs:
        lines.append((f"The {tab.name} tab", tab.about))
        lines.append(("Column", "What to type", "Type", "Choices"))
        for column in tab.columns:
            lines.append((column.header, column.help, TYPE_LABELS[column.type], ", ".join(column.choices)))
        lines.append(())
    return lines


_ABOUT_WIDTHS = (24, 90, 20, 40)


def _write_about(book: XlWorkbook, spec: TemplateSpec) -> None:
    """The About tab: bold headings, wrapped text in column B with a row height to fit
    (no merged cells: sheet-crm's reader, and many owners, find them awkward)."""
    from openpyxl.worksheet.dimensions import RowDimension

    ws = book.create_sheet("About")
    # Printed, the About tab fits the page width (owners do print instructions).
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.page_setup.orientation = "landscape"
    for letter, width in zip("ABCD", _ABOUT_WIDTHS, strict=True):
        ws.column_dimensions[letter] = ColumnDimension(ws, index=letter, width=width)
    for n, line in enumerate(about_lines(spec), 1):
        cells: list[Any] = []
        bold = line[:1] in (("How to use it",), ("Column",)) or (line[:1] and line[0].startswith("The "))
        for i, value in enumerate(line):
            cell = WriteOnlyCell(ws, value=value or None)
            if n == 1:
                cell.font = _TITLE
            elif bold and (i == 0 or line[0] == "Column"):
                cell.font = _BOLD
            cell.alignment = _WRAP if i >= 1 else _TOP
            cells.append(cell)
        if len(line) > 1:
            # Rough fit: about 1.1 characters per unit of column width at the default font.
            rows_needed = -(-len(line[1]) // int(_ABOUT_WIDTHS[1] * 1.1))
            if rows_needed > 1:
                ws.row_dimensions[n] = RowDimension(ws, index=n, ht=15 * rows_needed)
        ws.append(cells)


def template_names() -> list[str]:
    """The names of every template (for tests and help texts)."""
    return [t.name for t in list_templates()]
