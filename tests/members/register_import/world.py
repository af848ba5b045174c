"""Register files for the import tests, built as a spreadsheet would be."""

import csv
import datetime
import io

from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

HEADER = [
    "Name",
    "Email",
    "Membership number",
    "Grade",
    "First joined",
    "Paid up until",
    "Organisation ODS code",
    "Phone",
    "Marketing consent",
    "Consultations consent",
]


def today() -> datetime.date:
    return timezone.localdate()


def day(offset: int) -> str:
    return (today() + datetime.timedelta(days=offset)).strftime("%d/%m/%Y")


def good_rows() -> list[list[str]]:
    return [
        ["Ann Archer", "ann@example.org", "IGPM-005001", "Member", "03/04/2015", day(200),
         "A81001", "01234 567890", "yes", "no"],
        ["Bob Baker", "bob@example.org", "5002", "Fellow", "2019-01-10", day(-10),
         "", "", "no", "yes"],
        ["Cat Cooper", "cat@example.org", "IGPM005003", "associate", "01/06/2020", day(-90),
         "B82002", "", "", ""],
    ]  # fmt: skip


def csv_bytes(rows, header=HEADER) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue().encode()


def xlsx_bytes(rows, header=HEADER) -> bytes:
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.append(header)
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def upload(content: bytes, name: str = "register.csv") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type="text/csv")


def register_imported(by, callbacks):
    """A one-member register, imported: (the import, the member, a claim
    token for them)."""
    from members.models import ClaimInvitation, User
    from members.register_import.invitations import claim_token
    from members.register_import.services import register_import_start, register_import_upload

    rows = [["Zed Zephyr", "zed@example.org", "9001", "Member", "01/01/2020", day(100),
             "", "", "", ""]]  # fmt: skip
    with callbacks(execute=True):
        register_import = register_import_upload(name="r.csv", content=csv_bytes(rows), by=by)
    register_import.refresh_from_db()
    with callbacks(execute=True):
        register_import_start(
            register_import=register_import, by=by, leave_out=set(), errors_left_out=False
        )
    register_import.refresh_from_db()
    member = User.objects.get(email="zed@example.org")
    return register_import, member, claim_token(ClaimInvitation.objects.get(user=member))


def row(name, email, number, grade="Member", joined="01/01/2020", paid_up=None, ods="",
        phone="", marketing="", consultations="") -> list[str]:  # fmt: skip
    """One register row; paid up 30 days from today unless given."""
    return [name, email, number, grade, joined, paid_up or day(30), ods, phone, marketing,
            consultations]  # fmt: skip
