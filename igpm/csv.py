"""CSV downloads: streamed a row at a time, so a large export never sits
whole in memory, with text a spreadsheet shows as text."""

import csv
from collections.abc import Iterable, Iterator

from django.db import connection
from django.http import StreamingHttpResponse

# A cell starting with one of these is run as a formula by spreadsheets.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(value: object) -> object:
    """``value`` as it should go into a cell: text that would start a
    formula gets a leading apostrophe; None is an empty cell; numbers and
    anything else are left for the csv writer."""
    if value is None:
        return ""
    if isinstance(value, str) and value[:1] in FORMULA_STARTS:
        return f"'{value}"
    return value


def formula_safe_sql(expression: str) -> str:
    """SQL for the text of ``expression`` as ``csv_cell`` puts it in a cell,
    for CSV written by PostgreSQL: a leading apostrophe before a formula,
    and NULL (an empty cell) for NULL or empty text, since PostgreSQL's CSV
    quotes an empty string (``""``) where Python's leaves the cell empty.
    ``expression`` is SQL from the code, never from a request."""
    starts = ", ".join(
        f"'{char}'" if char.isprintable() else f"chr({ord(char)})" for char in FORMULA_STARTS
    )
    return (
        f"CASE WHEN left({expression}, 1) IN ({starts}) THEN '''' || ({expression}) "
        f"ELSE NULLIF({expression}, '') END"
    )


class _Echo:
    """A file that hands back what is written, so the writer's output can
    be yielded instead of stored."""

    def write(self, value: str) -> str:
        return value


def csv_stream(header: Iterable[str], rows: Iterable[Iterable[object]]) -> Iterable[str]:
    """The header and then each row as a line of CSV, one at a time."""
    writer = csv.writer(_Echo())
    yield writer.writerow(header)
    for row in rows:
        yield writer.writerow([csv_cell(value) for value in row])


def csv_copy_stream(
    header: Iterable[str], select_sql: str, *, rows_per_part: int = 1000
) -> Iterator[bytes]:
    """The header, then each row of ``select_sql`` as PostgreSQL writes it
    (``COPY ... TO STDOUT``), ``rows_per_part`` rows to a part: the bytes
    ``csv_stream`` writes when each text column of ``select_sql`` goes
    through ``formula_safe_sql``, with a few Python steps a row, not dozens.

    Both quote a cell only when it holds a comma, a double quote, CR or LF,
    and double the quotes inside; PostgreSQL ends a row with LF where
    Python's writer ends it with CRLF, so each row's last byte is replaced.
    ``select_sql`` is complete SQL (parameters bound), from the code only."""
    yield "".join(csv_stream(header, [])).encode()
    part: list[bytes] = []
    with (
        connection.cursor() as cursor,
        cursor.copy(f"COPY ({select_sql}) TO STDOUT WITH (FORMAT csv)") as copy,
    ):
        # PostgreSQL sends a message a row, ending with LF; a LF in a cell
        # is inside quotes, so only the last byte of a message ends the row.
        for row in copy:
            part.append(row[:-1])
            if len(part) == rows_per_part:
                yield b"\r\n".join(part) + b"\r\n"
                part = []
    if part:
        yield b"\r\n".join(part) + b"\r\n"


def _download(content: Iterable[str | bytes], filename: str) -> StreamingHttpResponse:
    response = StreamingHttpResponse(content, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def csv_response(
    *, filename: str, header: Iterable[str], rows: Iterable[Iterable[object]]
) -> StreamingHttpResponse:
    """A streamed CSV download. ``rows`` should be lazy (a generator over
    ``.iterator()``) for the memory to stay flat."""
    return _download(csv_stream(header, rows), filename)


def csv_copy_response(
    *, filename: str, header: Iterable[str], select_sql: str
) -> StreamingHttpResponse:
    """A streamed CSV download written by PostgreSQL (``csv_copy_stream``),
    for a list too long for a Python loop over every cell."""
    return _download(csv_copy_stream(header, select_sql), filename)
