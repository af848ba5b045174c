"""The staff reports: members' figures (``membership``, ``renewals``,
``member_list``), the page's extension point (``registry``) that every
app's ``reports.py`` fills, members' own sections (``sections``), and
the pages (``views``).

The figure functions are re-exported here: ``from members import reports``
then ``reports.grade_rows(...)``.
"""

from .member_list import MEMBER_EXPORT_HEADER, member_export_rows, member_export_sql
from .membership import NOT_GIVEN, BoardRow, GradeRow, PlaceRow, grade_rows, place_rows
from .period import last_months, month_start, rate, uk_midnight
from .renewals import (
    MovementRow,
    RetentionRow,
    counted_years,
    movement_rows,
    retention_months,
    retention_rows,
)

__all__ = [
    "MEMBER_EXPORT_HEADER",
    "NOT_GIVEN",
    "BoardRow",
    "GradeRow",
    "MovementRow",
    "PlaceRow",
    "RetentionRow",
    "counted_years",
    "grade_rows",
    "last_months",
    "member_export_rows",
    "member_export_sql",
    "month_start",
    "movement_rows",
    "place_rows",
    "rate",
    "retention_months",
    "retention_rows",
    "uk_midnight",
]
