"""Reading a register file: CSV (UTF-8, with or without a byte-order mark)
or Excel (.xlsx, through openpyxl in read-only mode, values not formulas).

The header row is matched to the fields a register has, by a few common
names each ("Surname" or "Last name"); a missing column, an unknown one or
one given twice is refused with its name, before any row is read.
"""

import csv
import datetime
import io
import re
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass

from django.conf import settings

# Field -> the headings that mean it (compared lower-case, with spaces,
# underscores and hyphens alike).
HEADINGS = {
    "name": ("name", "full name"),
    "first_name": ("first name", "forename", "given name"),
    "last_name": ("last name", "surname", "family name"),
    "email": ("email", "email address", "e mail"),
    "number": ("membership number", "member number", "number"),
    "grade": ("grade", "membership grade"),
    "first_joined": ("first joined", "joined", "date joined", "member since"),
    "paid_up_until": ("paid up until", "paid until", "paid up to", "expires", "expiry date"),
    "ods_code": ("organisation ods code", "ods code", "practice ods code"),
    "phone": ("phone", "phone number", "telephone"),
    "marketing_consent": ("marketing consent", "marketing"),
    "consultation_consent": (
        "consultations consent",
        "consultation consent",
        "consultations",
    ),
}
REQUIRED = ("email", "number", "grade", "first_joined", "paid_up_until")
LABELS = {
    "name": "Name",
    "first_name": "First name",
    "last_name": "Last name",
    "email": "Email",
    "number": "Membership number",
    "grade": "Grade",
    "first_joined": "First joined",
    "paid_up_until": "Paid up until",
    "ods_code": "Organisation ODS code",
    "phone": "Phone",
    "marketing_consent": "Marketing consent",
    "consultation_consent": "Consultations consent",
}
_BY_HEADING = {heading: field for field, names in HEADINGS.items() for heading in names}

XLSX, CSV = "xlsx", "csv"


class FileProblem(ValueError):
    """The file as a whole cannot be read: the message says why."""


@dataclass(frozen=True)
class Header:
    fields: list[str | None]  # by column; None for an empty heading


def max_bytes() -> int:
    return settings.REGISTER_IMPORT_MAX_BYTES


def max_rows() -> int:
    return settings.REGISTER_IMPORT_MAX_ROWS


def _key(heading) -> str:
    return re.sub(r"[\s_\-]+", " ", str(heading or "")).strip().lower()


def header_check(headings: list) -> Header:
    fields: list[str | None] = []
    unknown, seen, twice = [], set(), []
    for heading in headings:
        if not _key(heading):
            fields.append(None)
            continue
        field = _BY_HEADING.get(_key(heading))
        if field is None:
            unknown.append(str(heading).strip())
        elif field in seen:
            twice.append(str(heading).strip())
        seen.add(field)
        fields.append(field)
    problems = []
    missing = [LABELS[f] for f in REQUIRED if f not in seen]
    if "name" not in seen and not {"first_name", "last_name"} <= seen:
        missing.insert(0, "Name (or First name and Last name)")
    if missing:
        problems.append("The header row has no column for: " + ", ".join(missing) + ".")
    if unknown:
        problems.append(
            "These columns are not ones the import knows: "
            + ", ".join(f"\u201c{u}\u201d" for u in unknown)
            + ". Rename or remove them."
        )
    if twice:
        problems.append("These columns appear twice: " + ", ".join(twice) + ".")
    if problems:
        problems.append("The columns are: " + ", ".join(LABELS.values()) + ".")
        raise FileProblem(" ".join(problems))
    return Header(fields=fields)


def kind_of(name: str, head: bytes) -> str:
    """CSV or XLSX, from what the bytes are (an .xlsx is a ZIP archive);
    the name only has to agree."""
    lower = name.lower()
    if head.startswith(b"PK\x03\x04"):
        if not lower.endswith(".xlsx"):
            raise FileProblem("Upload a .csv or .xlsx file.")
        return XLSX
    if lower.endswith((".csv", ".txt")):
        return CSV
    if lower.endswith(".xls"):
        raise FileProblem("Old Excel files (.xls) cannot be read: save it as .xlsx or .csv.")
    raise FileProblem("Upload a .csv or .xlsx file.")


def _csv_rows(content: bytes) -> Iterator[list]:
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise FileProblem(
            "The CSV file is not UTF-8 text. In Excel, save it as "
            "\u201cCSV UTF-8 (comma delimited)\u201d."
        ) from None
    if "\x00" in text:
        raise FileProblem("The CSV file is not text.")
    try:
        yield from csv.reader(io.StringIO(text, newline=""))
    except csv.Error as error:
        raise FileProblem(f"The CSV file could not be read: {error}.") from None


# A workbook unpacks to far more than its file; more than this is not a
# register (a "zip bomb" would otherwise be unpacked in memory).
XLSX_MAX_UNPACKED = 200 * 1024 * 1024
# Columns read from each row: a register has a dozen.
MAX_COLUMNS = 40


def _xlsx_rows(content: bytes) -> Iterator[list]:
    from openpyxl import load_workbook

    try:
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            unpacked = sum(item.file_size for item in archive.infolist())
    except zipfile.BadZipFile as error:
        raise FileProblem(f"The Excel file could not be opened ({error}).") from None
    if unpacked > XLSX_MAX_UNPACKED:
        raise FileProblem("The Excel file unpacks to more than a register could hold.")
    try:
        book = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, OSError, ValueError) as error:
        raise FileProblem(f"The Excel file could not be opened ({error}).") from None
    try:
        sheet = book.worksheets[0]
        for row in sheet.iter_rows(values_only=True, max_col=MAX_COLUMNS):
            yield list(row)
    finally:
        book.close()


def rows_of(*, name: str, content: bytes) -> Iterator[list]:
    """Every row of the file (the header first), cells as read."""
    if len(content) > max_bytes():
        raise FileProblem(f"The file is larger than {max_bytes() // (1024 * 1024)} MB.")
    kind = kind_of(name, content[:4])
    return _xlsx_rows(content) if kind == XLSX else _csv_rows(content)


def header_read(*, name: str, content: bytes) -> Header:
    rows = rows_of(name=name, content=content)
    for cells in rows:
        if any(_cell(c) for c in cells):
            return header_check(cells)
    raise FileProblem("The file is empty: the first row should be the column headings.")


def _cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime.datetime):
        return value.date().isoformat()
    if isinstance(value, datetime.date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def records(*, name: str, content: bytes) -> Iterator[tuple[int, dict[str, str]]]:
    """(line number, {field: text}) for every non-empty row after the
    header. Refuses a file with more than ``max_rows()`` rows."""
    header = None
    count = 0
    for line, cells in enumerate(rows_of(name=name, content=content), start=1):
        texts = [_cell(c) for c in cells]
        if header is None:
            if any(texts):
                header = header_check(cells)
            continue
        if not any(texts):
            continue
        count += 1
        if count > max_rows():
            raise FileProblem(
                f"The file has more than {max_rows():,} rows: split it into smaller files."
            )
        values = {}
        for field, text in zip(header.fields, texts, strict=False):
            if field:
                values[field] = text
        extra = [t for t in texts[len(header.fields) :] if t]
        if extra:
            values["_extra"] = "yes"
        yield line, values
    if header is None:
        raise FileProblem("The file is empty: the first row should be the column headings.")
