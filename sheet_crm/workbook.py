"""The workbook as the tool sees it: tabs of cells with the sheet's own row numbers.

Backends turn a file (or a Google Sheet) into a ``Workbook`` and carry out a
``WritePlan``; nothing else touches storage. Cells hold plain Python values:
``str``, ``int``, ``float``, ``bool``, ``datetime.datetime``, ``None`` (blank) or
``CellError`` (``#N/A``, ``#REF!`` ... as the owner sees it).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Literal

from .errors import AmbiguousTab
from .findings import FindingList, Location, Severity

# ---------------------------------------------------------------- cells


@dataclass(frozen=True)
class CellError:
    """A formula error value as the owner sees it (``#N/A``, ``#REF!``, ...)."""

    text: str

    def __str__(self) -> str:
        return self.text


@dataclass(frozen=True)
class NoCachedValue:
    """A formula cell whose value was never computed (saved by a program that does not)."""

    formula: str = ""

    def __str__(self) -> str:
        return f"={self.formula}" if self.formula else "(formula)"


Cell = str | int | float | bool | datetime | date | CellError | NoCachedValue | None


def is_blank(value: Cell) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


_MIDNIGHT = datetime.min.time()


def cell_key(value: Cell) -> str:
    """What a cell holds, with the differences no owner made taken out: the one rule for
    "is this still the same cell?" (a backend checking a cell before it edits it, an undo,
    the content hash of an incremental sync). Equal keys mean the same cell.

    Blank (empty, spaces only) is ""; text is itself; anything else is its kind and value
    behind a NUL, so text "3", the number 3 and TRUE stay apart. A whole float is its int
    (Google sends 120.0 where an .xlsx holds 120) and a midnight datetime its date (a date
    cell read by one backend, a date-time by another)."""
    if type(value) is str:
        return "" if value.isspace() else value
    if value is None:
        return ""
    if type(value) is float:
        return f"\x00n:{int(value)}" if value.is_integer() else f"\x00n:{value!r}"
    if type(value) is int:
        return f"\x00n:{value}"
    if type(value) is bool:
        return "\x00b:TRUE" if value else "\x00b:FALSE"
    if type(value) is datetime:
        return f"\x00d:{value.date()}" if value.time() == _MIDNIGHT else f"\x00t:{value}"
    if type(value) is date:
        return f"\x00d:{value}"
    return f"\x00{type(value).__name__}:{value}"


def same_cell(a: Cell, b: Cell) -> bool:
    """Whether two cells hold the same thing (see ``cell_key``)."""
    return cell_key(a) == cell_key(b)


# ---------------------------------------------------------------- headers

# The canonical field names of the owner tabs, each with the header spellings
# owners use. Matching ignores case, spaces and punctuation (see ``header_key``).
FIELD_ALIASES: dict[str, dict[str, tuple[str, ...]]] = {
    "Customers": {
        "customer_id": (
            "customer id",
            "id",
            "client id",
            "customer no",
            "customer number",
            "cust id",
            "contact id",
            "account id",
        ),
        "first_name": ("first name", "firstname", "given name", "forename", "first"),
        "last_name": ("last name", "lastname", "surname", "family name", "last"),
        "name": ("name", "full name", "customer name", "contact name", "client name"),
        "company": (
            "company",
            "organisation",
            "organization",
            "business",
            "company name",
            "account",
            "employer",
            "firm",
        ),
        "job_title": ("job title", "title", "position", "job"),
        "role": ("role", "contact role"),
        "email": ("email", "e-mail", "email address", "e-mail address", "mail"),
        "phone": (
            "phone",
            "telephone",
            "tel",
            "mobile",
            "mobile phone",
            "cell",
            "cell phone",
            "phone number",
            "mobile number",
            "contact number",
        ),
        "preferred_channel": (
            "preferred channel",
            "channel",
            "contact preference",
            "preferred contact",
            "preferred contact method",
        ),
        "best_time": ("best time to contact", "best time", "contact time", "preferred time"),
        "address": ("address", "street", "street address", "address line 1", "address 1"),
        "city": ("city", "town", "locality"),
        "postcode": ("postcode", "post code", "zip", "zip code", "zipcode", "postal code"),
        "country": ("country", "country code"),
        "birthday": ("birthday", "date of birth", "dob", "birth date", "birthdate"),
        "customer_since": ("customer since", "first seen", "joined", "signup date", "created", "date added"),
        "referred_by": ("referred by", "referrer", "referral", "referred"),
        "email_opt_in": (
            "email opt-in",
            "email opt in",
            "email consent",
            "email ok",
            "marketing email",
            "newsletter",
        ),
        "sms_opt_in": ("sms opt-in", "sms opt in", "sms consent", "sms ok", "text opt in"),
        "do_not_contact": ("do not contact", "dnc", "no contact", "opted out", "unsubscribed"),
        "tags": ("tags", "labels", "tag"),
        "preferences": ("preferences", "likes", "interests", "preference"),
        "notes": ("notes", "note", "comments", "comment", "remarks"),
        "merged_into": ("merged into",),
    },
    "Orders": {
        "order_id": (
            "order id",
            "order",
            "order no",
            "order number",
            "invoice",
            "invoice no",
            "id",
            "booking id",
            "booking",
        ),
        "customer": ("customer", "customer id", "client", "customer email", "email", "buyer"),
        "date": ("date", "order date", "purchase date", "booking date", "invoice date"),
        "amount": ("amount", "total", "value", "price", "revenue", "spend", "order total"),
        "product": ("product", "item", "service", "description", "room", "sku"),
        "quantity": ("quantity", "qty", "units", "nights", "count"),
    },
    "Interactions": {
        "date": ("date", "when", "contact date"),
        "customer": ("customer", "customer id", "client", "email", "contact"),
        "channel": ("channel", "via", "medium", "type"),
        "direction": ("direction", "in out", "inbound outbound"),
        "summary": ("summary", "subject", "notes", "what", "description"),
        "outcome": ("outcome", "result"),
        "satisfaction": ("satisfaction", "score", "rating", "csat", "nps"),
        "follow_up": ("follow up", "follow-up", "follow up date", "next contact", "follow up on"),
    },
    "Settings": {
        "setting": ("setting", "name", "key", "option"),
        "value": ("value", "setting value"),
    },
    "Segments": {
        "name": ("name", "segment", "segment name"),
        "rule": ("rule", "condition", "filter", "expression"),
        "description": ("description", "about", "notes"),
        "template": ("template", "message template", "draft template"),
        "active": ("active", "enabled", "on"),
    },
    "Templates": {
        "name": ("name", "template", "template name"),
        "channel": ("channel",),
        "subject": ("subject", "title"),
        "body": ("body", "text", "message", "content"),
    },
}

OWNER_TABS: tuple[str, ...] = tuple(FIELD_ALIASES)

# Tabs the tool owns, in the order they are added to a workbook.
TOOL_TABS: tuple[str, ...] = (
    "Issues",
    "Tiers",
    "Segment Members",
    "Duplicates",
    "Outreach",
    "Dashboard",
    "Merge Log",
    "Runs",
)

GENERATED_MARK = "Generated by sheet-crm"


def header_key(text: object) -> str:
    """Fold a header for matching: ``' E-Mail  Address '`` -> ``'emailaddress'``.

    Case, accents, spaces and punctuation are ignored.
    """
    s = unicodedata.normalize("NFKD", str(text or ""))
    s = "".join(ch for ch in s if not unicodedata.combining(ch))
    return re.sub(r"[^0-9a-z]+", "", s.lower())


def slug(text: object) -> str:
    """A template- and rule-friendly name for an owner column: ``'Favourite Room'`` ->
    ``'favourite_room'``."""
    s = unicodedata.normalize("NFKD", str(text or ""))
    s = "".join(ch for ch in s if not unicodedata.combining(ch))
    s = re.sub(r"[^0-9a-zA-Z]+", "_", s.lower()).strip("_")
    if not s:
        return "column"
    return "_" + s if s[0].isdigit() else s


def _alias_index(tab_kind: str) -> dict[str, str]:
    index: dict[str, str] = {}
    for fieldname, aliases in FIELD_ALIASES.get(tab_kind, {}).items():
        for alias in (fieldname, *aliases):
            index.setdefault(header_key(alias), fieldname)
    return index


def tab_kind(name: str) -> str | None:
    """Which owner tab a tab name is (``'customers '`` -> ``'Customers'``), or None."""
    key = header_key(name)
    for kind in OWNER_TABS:
        if header_key(kind) == key:
            return kind
    return _ALIAS_KIND.get(key)


# Other names owners give their tabs, matched like headers ("contact-log" too).
TAB_ALIASES: dict[str, tuple[str, ...]] = {
    "Customers": ("Clients", "Contacts", "Guests"),
    "Orders": ("Sales", "Purchases", "Bookings", "Invoices"),
    "Interactions": ("Contact log", "Activity"),
    "Settings": ("Config",),
}
_ALIAS_KIND = {header_key(alias): kind for kind, aliases in TAB_ALIASES.items() for alias in aliases}


# ---------------------------------------------------------------- tables


@dataclass(slots=True)
class Row:
    """One data row: the sheet's own row number and its cells, aligned with the headers."""

    number: int
    values: list[Cell]

    def get(self, index: int | None) -> Cell:
        if index is None or index >= len(self.values):
            return None
        return self.values[index]


@dataclass
class Table:
    """One tab read from the workbook.

    ``header_row`` is the sheet row of the header (1 unless a title sits above it),
    ``rows`` skip blank rows but keep their sheet numbers, ``fields`` maps a
    canonical field (``email``) or a slug of an unknown header to its column index.
    """

    name: str
    headers: list[str]
    rows: list[Row]
    header_row: int = 1
    first_column: int = 1  # sheet column of headers[0] (1 = A)
    kind: str | None = None
    fields: dict[str, int] = field(default_factory=dict)
    merged_cells: list[str] = field(default_factory=list)  # "A1:B2" ranges, as found
    _by_number: dict[int, Row] | None = field(default=None, repr=False, compare=False)

    def row_at(self, number: int) -> Row | None:
        """The data row at a sheet row number (None for a blank or missing row)."""
        if self._by_number is None or len(self._by_number) != len(self.rows):
            self._by_number = {r.number: r for r in self.rows}
        return self._by_number.get(number)

    def column_number(self, index: int) -> int:
        """Sheet column number (1 = A) of the header at ``index``."""
        return self.first_column + index

    def index(self, fieldname: str) -> int | None:
        return self.fields.get(fieldname)

    def has(self, fieldname: str) -> bool:
        return fieldname in self.fields

    def value(self, row: Row, fieldname: str) -> Cell:
        return row.get(self.fields.get(fieldname))

    def location(self, row: Row | int | None, fieldname: str | None = None) -> Location:
        number = row.number if isinstance(row, Row) else row
        if fieldname is None or fieldname not in self.fields:
            return Location(self.name, number)
        i = self.fields[fieldname]
        return Location(self.name, number, self.column_number(i), self.headers[i])

    def records(self) -> Iterator[tuple[Row, dict[str, Cell]]]:
        """Each row with its cells keyed by field name (canonical or slug)."""
        for row in self.rows:
            yield row, {name: row.get(i) for name, i in self.fields.items()}


@dataclass
class Workbook:
    """All tabs of a workbook, in workbook order, plus what the backend needs to
    detect a change between read and write (``version``)."""

    tables: dict[str, Table]
    source: str = ""
    version: str = ""
    findings: FindingList = field(default_factory=FindingList)  # structural findings

    def find(self, kind: str, chosen: str = "") -> Table | None:
        """The owner tab of a kind (``'Customers'``), matched tolerantly by name; None
        when there is none. ``chosen`` is the owner's choice (the ``customers_tab``
        setting). Raises ``AmbiguousTab`` when several tabs could be it and neither an
        exact name nor ``chosen`` says which (see ``choose_tab``)."""
        choice = choose_tab(self.tables, kind, chosen)
        if choice.problem:
            raise AmbiguousTab(choice.problem, choice.fix, where=self.source)
        return choice.table

    def tab(self, name: str) -> Table | None:
        return self.tables.get(name)


# The setting that picks the tab read as each owner tab when several could be it.
TAB_SETTINGS: dict[str, str] = {kind: f"{kind.lower()}_tab" for kind in OWNER_TABS}

_NOUNS = {"Interactions": "interactions with customers"}


@dataclass(frozen=True)
class TabChoice:
    """Which tab is read as an owner tab of ``kind``, and why; or, in ``problem`` and
    ``fix``, why none can be (several could be it, or the setting names a wrong tab)."""

    kind: str
    table: Table | None
    candidates: tuple[str, ...] = ()  # every tab whose name reads as this kind
    how: str = ""  # "only one", "exact name", "setting"
    problem: str = ""
    fix: str = ""


def choose_tab(tables: Mapping[str, Table], kind: str, chosen: str = "") -> TabChoice:
    """The tab to read as ``kind``, among the tabs whose name reads as it (``tab_kind``:
    'Contacts', 'Clients' and 'Customers' all read as Customers).

    The owner's choice (``chosen``, the ``customers_tab`` setting) wins; then the only
    candidate; then the tab named exactly ``kind`` ('Customers'), then the one named so
    ignoring case and outer spaces. Anything else is refused rather than guessed: the
    first of two candidates may be a supplier list, and validate writes Customer IDs
    into the tab it reads as Customers.
    """
    candidates = [t for t in tables.values() if t.kind == kind]
    names = tuple(t.name for t in candidates)
    setting = TAB_SETTINGS.get(kind, f"{kind.lower()}_tab")
    if kind == "Settings":  # chosen outside the workbook: see config.settings_tab_choice
        setting = "SHEET_CRM_SETTINGS_TAB"
    raw = str(chosen or "")
    chosen = raw.strip()
    if chosen:
        picked = (
            [t for t in candidates if t.name == raw]
            or [t for t in candidates if t.name.strip() == chosen]
            or [t for t in candidates if t.name.strip().casefold() == chosen.casefold()]
        )
        if len(picked) == 1:
            return TabChoice(kind, picked[0], names, "setting")
        if picked:
            problem = (
                f"The setting {setting} says {_show_tab(chosen)}, which could be any of "
                f"{_list_tabs([t.name for t in picked])} (they differ only in capitals or spaces)."
            )
            fix = f"Type the name in {setting} exactly as the tab is spelled, or rename the other tabs."
            return TabChoice(kind, None, names, "", problem, fix)
        other = _tab_named(tables, chosen)
        if other is not None:
            problem = (
                f"The setting {setting} names the tab {_show_tab(other.name)}, but sheet-crm "
                f"reads a tab as {kind} only when its name says so "
                f"({', '.join(_kind_names(kind))})."
            )
            fix = f"Rename that tab to {kind}" + (
                f", or set {setting} to one of {_list_tabs(names)}." if names else "."
            )
        else:
            problem = (
                f"The setting {setting} names the tab {_show_tab(chosen)}, but the workbook has no such tab."
            )
            fix = (
                f"Type the name of one of the tabs that can be {kind}: {_list_tabs(names)}."
                if names
                else f"Correct the tab name in the setting {setting}, or clear it."
            )
        return TabChoice(kind, None, names, "", problem, fix)
    if len(candidates) <= 1:
        return TabChoice(kind, candidates[0] if candidates else None, names, "only one")
    exact = [t for t in candidates if t.name == kind] or [
        t for t in candidates if t.name.strip().casefold() == kind.casefold()
    ]
    if len(exact) == 1:
        return TabChoice(kind, exact[0], names, "exact name")
    noun = _NOUNS.get(kind, kind.lower())
    problem = (
        f"Several tabs could be the {kind} tab: {_list_tabs(names)}. sheet-crm will not guess "
        f"which one holds your {noun}"
        + (", because it writes Customer IDs into that tab." if kind == "Customers" else ".")
    )
    if kind == "Settings":
        fix = (
            f"Set the environment variable SHEET_CRM_SETTINGS_TAB to the name of the tab that holds "
            f"your settings (for example {_show_tab(names[0])}), or rename the other tabs. This choice "
            f"cannot be typed in a Settings tab, because sheet-crm has to know which tab that is first."
        )
    else:
        fix = (
            f"Add a row to the Settings tab with Setting {setting} and, as Value, the name of the tab "
            f"to use (for example {_show_tab(names[0])}); or rename the other tabs."
        )
    return TabChoice(kind, None, names, "", problem, fix)


def _tab_named(tables: Mapping[str, Table], name: str) -> Table | None:
    if name in tables:
        return tables[name]
    folded = [t for t in tables.values() if t.name.strip().casefold() == name.casefold()]
    return folded[0] if len(folded) == 1 else None


def _kind_names(kind: str) -> list[str]:
    return [kind, *TAB_ALIASES.get(kind, ())]


def _show_tab(name: str) -> str:
    """A tab name quoted for a message: short, and with no character that could not
    be printed (a name may hold anything a file or Google allows)."""
    shown = name if len(name) <= 60 else name[:57] + "..."
    return "'" + "".join(ch if ch.isprintable() else "\ufffd" for ch in shown) + "'"


def _list_tabs(names: Sequence[str]) -> str:
    shown = [_show_tab(n) for n in names[:8]]
    more = f" and {len(names) - 8} more" if len(names) > 8 else ""
    return ", ".join(shown) + more


def build_table(
    name: str,
    grid: Sequence[Sequence[Cell]],
    *,
    first_row: int = 1,
    first_column: int = 1,
    findings: FindingList | None = None,
    merged_cells: Sequence[str] = (),
    kind: str | None = None,
) -> Table:
    """Turn a tab's grid of cells into a ``Table``.

    ::

        row 1 | Our customers 2026      <- a title row: skipped, and we say so
        row 2 | Name      | E-mail      | Fav colour
        row 3 | Ann Lee   | ann@x.org   | blue
        row 4 |                                       <- blank: skipped
        row 5 | Bob Ray   | bob@y.com   | green

    gives headers ``['Name', 'E-mail', 'Fav colour']`` with ``header_row=2``,
    fields ``{'name': 0, 'email': 1, 'fav_colour': 2}`` and rows numbered 3 and 5.
    ``grid[0]`` is sheet row ``first_row``; ``grid[i][0]`` is column ``first_column``.
    """
    findings = findings if findings is not None else FindingList()
    kind = kind if kind is not None else tab_kind(name)
    header_at = _find_header_row(grid, kind)
    if header_at is None:
        return Table(name, [], [], first_row, first_column, kind, {}, list(merged_cells))
    raw_headers = list(grid[header_at])
    while raw_headers and is_blank(raw_headers[-1]):
        raw_headers.pop()
    headers = ["" if h is None else str(h).strip() for h in raw_headers]
    header_row = first_row + header_at
    if header_at > 0 and kind is not None:
        findings.add(
            "header-below-title",
            Severity.INFO,
            Location(name, header_row),
            f"The headers of the {name} tab were found on row {header_row}; "
            f"the rows above were read as a title.",
            "Nothing to do, unless the headers are somewhere else.",
        )
    fields = _match_fields(name, headers, kind, header_row, first_column, findings)
    rows: list[Row] = []
    width = len(headers)
    for offset, cells in enumerate(grid[header_at + 1 :], start=header_at + 1):
        values = list(cells[:width]) + [None] * (width - len(cells))
        if all(is_blank(v) for v in values):
            continue
        rows.append(Row(first_row + offset, values))
    return Table(name, headers, rows, header_row, first_column, kind, fields, list(merged_cells))


def _find_header_row(grid: Sequence[Sequence[Cell]], kind: str | None) -> int | None:
    """The header is the first of the top rows that looks most like one: for a known
    tab, the row matching most known fields; otherwise the first row with two or more
    text cells (a lone title cell is not a header)."""
    top = [list(r) for r in grid[:15]]
    if not top:
        return None
    if kind is not None:
        index = _alias_index(kind)
        best, best_hits = None, 0
        for i, cells in enumerate(top):
            hits = len({index[k] for c in cells if isinstance(c, str) and (k := header_key(c)) in index})
            if hits > best_hits:
                best, best_hits = i, hits
        if best is not None and best_hits >= 1:
            return best
    first = [c for c in top[0] if not is_blank(c)]
    if first and isinstance(first[0], str) and first[0].startswith(GENERATED_MARK):
        return 1 if len(top) > 1 else None
    for i, cells in enumerate(top):
        if sum(not is_blank(c) for c in cells) >= 2:
            return i
    for i, cells in enumerate(top):
        if any(not is_blank(c) for c in cells):
            return i
    return None


def _match_fields(
    name: str,
    headers: list[str],
    kind: str | None,
    header_row: int,
    first_column: int,
    findings: FindingList,
) -> dict[str, int]:
    index = _alias_index(kind) if kind else {}
    fields: dict[str, int] = {}
    seen_key: dict[str, int] = {}
    for i, header in enumerate(headers):
        loc = Location(name, header_row, first_column + i, header)
        if not header:
            findings.add(
                "blank-header",
                Severity.WARNING,
                loc,
                f"Column {loc.cell.split('!')[-1].rstrip('0123456789')} of the {name} tab "
                f"has no header, so its values are not used.",
                "Type a header in this cell.",
            )
            continue
        key = header_key(header)
        if key in seen_key:
            first = headers[seen_key[key]]
            findings.add(
                "duplicate-header",
                Severity.ERROR,
                loc,
                f"The {name} tab has two columns called '{first}'; only the first is used.",
                "Rename or remove one of them.",
                value=header,
            )
            continue
        seen_key[key] = i
        canonical = index.get(key)
        if canonical is not None and canonical not in fields:
            fields[canonical] = i
            continue
        if canonical is not None:
            other = headers[fields[canonical]]
            findings.add(
                "duplicate-header",
                Severity.ERROR,
                loc,
                f"In the {name} tab, '{header}' and '{other}' both mean {canonical.replace('_', ' ')}; "
                f"only '{other}' is used.",
                "Rename one of them so the two columns mean different things.",
                value=header,
            )
            continue
        s = slug(header)
        while s in fields:
            s += "_"
        fields[s] = i
    return fields


# ---------------------------------------------------------------- writing


ChartKind = Literal["line", "bar", "column", "pie", "scatter"]


@dataclass(frozen=True)
class ChartSpec:
    """A native chart on a tool tab. Ranges are in the tab's own cells, 1-based sheet
    rows and columns *as written* (the tool tab's header is on row 2)."""

    title: str
    kind: ChartKind
    categories: tuple[int, int, int]  # (column, first_row, last_row)
    series: tuple[tuple[str, int, int, int], ...]  # (name, column, first_row, last_row)
    anchor: str = "H3"  # top-left cell of the chart
    x_title: str = ""
    y_title: str = ""
    width_cm: float = 16.0
    height_cm: float = 8.0


# Number formats of tool-tab numbers, in the format language Excel, LibreOffice and
# Google Sheets share.
AMOUNT = "#,##0.00"  # money: 1,240.50
WHOLE = "#,##0"  # counts and days: 1,240
ONE_DECIMAL = "#,##0.0"  # percentages written as 0-100, gaps in days: 87.5


@dataclass
class ToolTab:
    """A tab the tool writes whole: headers, rows of values, and how to present them.

    Written as: row 1 the generated-by note, row 2 the bold frozen header with a
    filter, rows 3.. the data. ``decision_columns`` are the owner's: the step that
    builds the tab carries their values over (by ``key_columns``) from what was read.
    ``append_only`` tabs (Merge Log, Runs) keep their old rows and gain new ones.
    ``formats`` shows a column's numbers with a number format (``AMOUNT``, ``WHOLE``,
    ``ONE_DECIMAL``), ``cell_formats`` one cell's, by (index in ``rows``, header);
    only numbers take them (a date keeps its date format, text stays text).
    """

    name: str
    headers: list[str]
    rows: list[list[Cell]]
    note: str = ""
    decision_columns: tuple[str, ...] = ()
    key_columns: tuple[str, ...] = ()
    widths: dict[str, float] = field(default_factory=dict)  # header -> width in characters
    charts: list[ChartSpec] = field(default_factory=list)
    append_only: bool = False
    formats: dict[str, str] = field(default_factory=dict)  # header -> number format
    cell_formats: dict[tuple[int, str], str] = field(default_factory=dict)  # (row index, header) -> format

    HEADER_ROW = 2  # sheet row of the header as written
    FIRST_DATA_ROW = 3

    def number_formats(self) -> tuple[list[str | None], dict[tuple[int, int], str]]:
        """The number format of each column (None: none), and of single cells by
        (index in ``rows``, column index)."""
        index = {h: i for i, h in enumerate(self.headers)}
        cells = {(r, index[h]): f for (r, h), f in self.cell_formats.items() if h in index}
        return [self.formats.get(h) for h in self.headers], cells


@dataclass(frozen=True)
class CellEdit:
    """A write into an owner tab, made only if the cell still holds ``expected``."""

    tab: str
    row: int  # sheet row
    column: int  # sheet column, 1 = A
    expected: Cell
    value: Cell
    reason: str

    @property
    def location(self) -> Location:
        return Location(self.tab, self.row, self.column)


@dataclass(frozen=True)
class RowAppend:
    """A row appended to an owner tab (for example a sent draft to Interactions),
    values keyed by the tab's header text."""

    tab: str
    values: dict[str, Cell]
    reason: str


@dataclass
class WritePlan:
    """Everything one run writes, carried out all or nothing."""

    tabs: list[ToolTab] = field(default_factory=list)
    edits: list[CellEdit] = field(default_factory=list)
    appends: list[RowAppend] = field(default_factory=list)
    generated_at: datetime | None = None

    @property
    def empty(self) -> bool:
        return not (self.tabs or self.edits or self.appends)


@dataclass
class WriteReport:
    """What a backend wrote."""

    tabs_written: list[str] = field(default_factory=list)
    cells_edited: int = 0
    rows_appended: int = 0
    skipped_edits: list[CellEdit] = field(default_factory=list)  # cell no longer held `expected`
    backup: str = ""


def generated_note(tab: ToolTab, when: datetime) -> str:
    decisions = (
        f" Your entries in {', '.join(tab.decision_columns)} are kept." if tab.decision_columns else ""
    )
    lead = f"{GENERATED_MARK} on {when:%Y-%m-%d %H:%M}."
    body = f" {tab.note}" if tab.note else ""
    if tab.append_only:
        return f"{lead}{body} New rows are added at the end; nothing here is overwritten."
    return f"{lead}{body} Edits outside the decision columns are overwritten on the next run.{decisions}"


FORMULA_LEADERS = ("=", "+", "-", "@", "\t", "\r")


def needs_text_guard(value: Cell) -> bool:
    """True for text a spreadsheet could take for a formula (``=cmd|...``, ``+1``, ``@SUM``).

    Backends write such values as plain text (xlsx: a string cell; Google: RAW)."""
    return isinstance(value, str) and value.startswith(FORMULA_LEADERS)


def previous_decisions(
    workbook: Workbook, tab: str, key_columns: Sequence[str], decision_columns: Sequence[str]
) -> dict[tuple[str, ...], dict[str, Cell]]:
    """The owner's entries in a tool tab's decision columns, keyed by its key columns,
    as read this run. Rows whose decision cells are all blank are left out."""
    table = workbook.tab(tab)
    if table is None:
        return {}
    pos = {h: i for i, h in enumerate(table.headers)}
    if any(k not in pos for k in key_columns):
        return {}
    out: dict[tuple[str, ...], dict[str, Cell]] = {}
    for row in table.rows:
        decisions = {d: row.get(pos[d]) for d in decision_columns if d in pos}
        if all(is_blank(v) for v in decisions.values()):
            continue
        key = tuple("" if row.get(pos[k]) is None else str(row.get(pos[k])) for k in key_columns)
        out[key] = decisions
    return out
