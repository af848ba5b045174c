"""The membership team's register import pages: upload, checks on the
file, the dry-run report, choosing rows, and query counts."""

import pytest
from django.urls import reverse

from members.models import Membership, RegisterImport
from tests.factories import team_member

from .world import HEADER, csv_bytes, day, good_rows, row, upload, xlsx_bytes

pytestmark = pytest.mark.django_db
UPLOAD = reverse("members:staff_register_imports")


@pytest.fixture
def staff_client(client, db):
    client.force_login(team_member("Membership team"))
    return client


def post_file(client, content, name="register.csv", callbacks=None):
    if callbacks is None:
        return client.post(UPLOAD, {"file": upload(content, name)})
    with callbacks(execute=True):
        return client.post(UPLOAD, {"file": upload(content, name)})


def test_a_file_without_the_columns_is_refused_by_the_field_naming_them(staff_client):
    header = [h for h in HEADER if h != "Grade"] + ["Shoe size"]
    response = post_file(staff_client, csv_bytes([], header=header))
    assert response.status_code == 400
    html = response.content.decode()
    assert "no column for: Grade" in html
    assert "Shoe size" in html
    assert not RegisterImport.objects.exists()


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("register.pdf", b"%PDF-1.4 not a register", "Upload a .csv or .xlsx file."),
        ("register.xlsx", b"PK\x03\x04 broken zip", "could not be opened"),
        ("register.csv", "Name,Email\n".encode("utf-16"), "not UTF-8"),
        ("register.xls", b"\xd0\xcf\x11\xe0", "Old Excel files"),
    ],
)
def test_a_file_that_is_not_a_register_is_refused_with_a_message(
    staff_client, name, content, message
):
    response = post_file(staff_client, content, name)
    assert response.status_code == 400
    assert message in response.content.decode()


def test_files_over_the_size_or_row_limit_are_refused(
    staff_client, settings, django_capture_on_commit_callbacks
):
    settings.REGISTER_IMPORT_MAX_BYTES = 200
    response = post_file(staff_client, csv_bytes(good_rows()))
    assert response.status_code == 400
    assert "larger than" in response.content.decode()

    settings.REGISTER_IMPORT_MAX_BYTES = 8 * 1024 * 1024
    settings.REGISTER_IMPORT_MAX_ROWS = 2
    response = post_file(
        staff_client, csv_bytes(good_rows()), callbacks=django_capture_on_commit_callbacks
    )
    register_import = RegisterImport.objects.get()
    assert register_import.status == RegisterImport.Status.FAILED
    page = staff_client.get(response["Location"]).content.decode()
    assert "more than 2 rows" in page
    assert not register_import.rows.exists()


def test_upload_dry_run_report_and_import_through_the_pages(
    staff_client, django_capture_on_commit_callbacks
):
    rows = [*good_rows(), row("Dan Dixon", "dan@example.org", "5004", grade="Platinum")]
    response = post_file(staff_client, xlsx_bytes(rows), "register.xlsx",
                         django_capture_on_commit_callbacks)  # fmt: skip
    assert response.status_code == 302
    register_import = RegisterImport.objects.get()
    page = staff_client.get(response["Location"]).content.decode()
    assert "Dry run: nothing has been written yet" in page
    assert "Platinum" in page and "is not a grade" in page  # errors are shown first

    progress = staff_client.get(
        reverse("members:staff_register_import_progress", args=[register_import.pk])
    ).json()
    assert progress == {"status": "checked", "busy": False, "stalled": False, "done": 4,
                        "total": 4, "percent": 100}  # fmt: skip

    start = reverse("members:staff_register_import_start", args=[register_import.pk])
    refused = staff_client.post(start, {"leave_out": "3"})
    assert refused.status_code == 400
    html = refused.content.decode()
    assert "1 rows have errors" in html
    assert 'value="3"' in html  # what was typed is kept
    bad_range = staff_client.post(start, {"leave_out": "3-x", "errors_left_out": "on"})
    assert bad_range.status_code == 400
    assert "is not a row number" in bad_range.content.decode()
    # "²" passes str.isdigit(), and int() refuses it.
    superscript = staff_client.post(start, {"leave_out": "3-\u00b2", "errors_left_out": "on"})
    assert superscript.status_code == 400
    assert "is not a row number" in superscript.content.decode()
    assert not Membership.objects.exists()

    with django_capture_on_commit_callbacks(execute=True):
        done = staff_client.post(start, {"leave_out": "3", "errors_left_out": "on"})
    assert done.status_code == 302
    assert set(Membership.objects.values_list("number", flat=True)) == {
        "IGPM-005001",
        "IGPM-005003",
    }
    page = staff_client.get(done["Location"] + "?show=all").content.decode()
    assert "2 created" in page and "2 left out" in page


def test_the_report_page_costs_the_same_queries_for_10_rows_as_for_300(
    staff_client, django_capture_on_commit_callbacks, django_assert_max_num_queries
):
    def file_of(n):
        return csv_bytes([[f"P {i}", f"p{n}x{i}@example.org", str(n * 1000 + i), "Member",
                           "01/01/2020", day(10), "", "", "", ""] for i in range(n)])  # fmt: skip

    pages = []
    for n in (10, 300):
        post_file(staff_client, file_of(n), callbacks=django_capture_on_commit_callbacks)
        pages.append(RegisterImport.objects.first().get_absolute_url())
    for url in pages:
        with django_assert_max_num_queries(12):
            assert staff_client.get(url + "?show=all").status_code == 200


def test_an_excel_file_that_unpacks_too_large_is_refused(staff_client, monkeypatch):
    from members.register_import import parsing

    monkeypatch.setattr(parsing, "XLSX_MAX_UNPACKED", 1000)
    response = post_file(staff_client, xlsx_bytes(good_rows()), "register.xlsx")
    assert response.status_code == 400
    assert "unpacks to more than" in response.content.decode()


def test_staff_invoice_the_renewal_of_a_member_who_never_claimed(
    staff_client, django_capture_on_commit_callbacks
):
    from django.core import mail

    from members.models import Payment, User

    rows = [row("Ann Archer", "ann@example.org", "5001", paid_up=day(20))]
    post_file(staff_client, csv_bytes(rows), callbacks=django_capture_on_commit_callbacks)
    register_import = RegisterImport.objects.get()
    with django_capture_on_commit_callbacks(execute=True):
        staff_client.post(
            reverse("members:staff_register_import_start", args=[register_import.pk]), {}
        )
    ann = User.objects.get(email="ann@example.org")
    record = staff_client.get(reverse("members:staff_member", args=[ann.pk])).content.decode()
    assert "From the earlier register" in record and "Not claimed yet" in record

    url = reverse("members:staff_renewal_invoice", args=[ann.pk])
    missing = staff_client.post(url, {"purchase_order": "PO-7"})
    assert missing.status_code == 400
    html = missing.content.decode()
    assert "Enter the name of the organisation paying the invoice." in html
    assert 'value="PO-7"' in html
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        sent = staff_client.post(
            url, {"organisation": "Riverside Surgery", "purchase_order": "PO-7"}
        )
    assert sent.status_code == 302
    invoice = Payment.objects.get(membership__user=ann, method=Payment.Method.INVOICE)
    assert invoice.amount_pence == ann.membership.grade.annual_fee_pence
    assert invoice.invoice_purchase_order == "PO-7"
    assert [m.to for m in mail.outbox] == [["ann@example.org"]]
    assert invoice.invoice_number in mail.outbox[0].body


def test_the_audit_trail_names_the_register_file(client, django_capture_on_commit_callbacks):
    post = client.post
    client.force_login(team_member("Membership team"))
    with django_capture_on_commit_callbacks(execute=True):
        post(UPLOAD, {"file": upload(csv_bytes(good_rows()), "spring-register.csv")})
    client.force_login(team_member("Administrators"))
    trail = client.get(reverse("members:staff_audit")).content.decode()
    assert "Register file spring-register.csv" in trail


def test_staff_tick_rows_in_the_report_page_by_page_and_only_those_are_left_out(
    staff_client, settings, django_capture_on_commit_callbacks
):
    """Ticks are saved a page at a time (a plain form, no script needed):
    a page's unticked rows are cleared, other pages keep theirs. Ticking
    every row with errors is enough to import the rest."""
    from members.models import AuditEntry
    from members.register_import import views

    settings.REGISTER_IMPORT_BATCH = 3
    rows = [row(f"P {i}", f"p{i}@example.org", str(8000 + i)) for i in range(6)]
    rows.append(row("Dan Dixon", "dan@example.org", "8100", grade="Platinum"))  # line 8
    post_file(staff_client, csv_bytes(rows), callbacks=django_capture_on_commit_callbacks)
    register_import = RegisterImport.objects.get()
    url = register_import.get_absolute_url()
    choose = reverse("members:staff_register_rows_choose", args=[register_import.pk])
    start = reverse("members:staff_register_import_start", args=[register_import.pk])

    page = staff_client.get(url).content.decode()  # the rows with errors first
    assert 'name="line" value="8"' in page and "Leave out row 8" in page
    assert staff_client.post(start, {}).status_code == 400  # the error row not ticked yet

    views_page = views.PAGE_ROWS
    try:
        views.PAGE_ROWS = 3
        first = {"shown": ["2", "3", "4"], "line": ["3", "4"], "show": "all", "page": "1"}
        response = staff_client.post(choose, first)
        assert response.status_code == 302 and "show=all" in response["Location"]
        second = {"shown": ["5", "6", "7"], "line": ["6"], "show": "all", "page": "2"}
        staff_client.post(choose, second)
        # Page one again, row 4 unticked: row 6 on page two keeps its tick.
        staff_client.post(choose, {**first, "line": ["3"]})
        staff_client.post(choose, {"shown": ["8"], "line": ["8"], "show": "problems"})
        ticked = staff_client.get(url + "?show=ticked").content.decode()
        assert "Ticked to leave out (3)" in ticked
        # Too many values, or not numbers: refused, nothing changed.
        bad = staff_client.post(choose, {"shown": ["2", "x"], "line": ["2"]}, follow=True)
        assert "could not be read" in bad.content.decode()
        huge = staff_client.post(choose, {"shown": [str(n) for n in range(2, 10)]}, follow=True)
        assert "could not be read" in huge.content.decode()
    finally:
        views.PAGE_ROWS = views_page
    assert set(register_import.rows.filter(left_out=True).values_list("line", flat=True)) == {
        3, 6, 8,
    }  # fmt: skip
    assert AuditEntry.objects.filter(action="register_rows_chosen").count() == 4

    with django_capture_on_commit_callbacks(execute=True):
        done = staff_client.post(start, {})
    assert done.status_code == 302
    register_import.refresh_from_db()
    assert register_import.import_counts["created"] == 4
    assert register_import.import_counts["left_out"] == 3
    assert set(Membership.objects.values_list("number", flat=True)) == {
        "IGPM-008000", "IGPM-008003", "IGPM-008005", "IGPM-008002",
    }  # fmt: skip
    # Once imported, the ticks can no longer change.
    late = staff_client.post(choose, {"shown": ["2"], "line": ["2"]}, follow=True)
    assert "only after the dry run" in late.content.decode()
