"""CSV downloads: streamed a row at a time, so a large export never sits
whole in memory, with text a spreadsheet shows as text."""

import csv
from collections.abc import Iterable

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


def csv_response(
    *, filename: str, header: Iterable[str], rows: Iterable[Iterable[object]]
) -> StreamingHttpResponse:
    """A streamed CSV download. ``rows`` should be lazy (a generator over
    ``.iterator()``) for the memory to stay flat."""
    response = StreamingHttpResponse(
        csv_stream(header, rows), content_type="text/csv; charset=utf-8"
    )
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
