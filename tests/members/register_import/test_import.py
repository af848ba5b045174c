"""Importing an existing register: the dry run, the import, re-imports,
membership numbers, paid-up years, and what members can do afterwards."""

import datetime

import pytest
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from members.billing.services.membership import add_years
from members.billing.services.numbers import membership_number_next
from members.billing.services.payments import payment_fulfil
from members.models import (
    AuditEntry,
    ClaimInvitation,
    ImportRow,
    Membership,
    MembershipDay,
    MembershipPeriod,
    Payment,
    Profile,
    RegisterImport,
    User,
)
from members.register_import.services import (
    register_import_start,
    register_import_upload,
)
from members.reports.summary import FIELDS, membership_figures_rebuild
from tests.factories import active_member, team_member

from .world import csv_bytes, day, good_rows, row, today, xlsx_bytes

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff(db):
    return team_member("Membership team")


def checked(staff, content, django_capture_on_commit_callbacks, name="register.csv"):
    with django_capture_on_commit_callbacks(execute=True):
        register_import = register_import_upload(name=name, content=content, by=staff)
    register_import.refresh_from_db()
    return register_import


def imported(staff, content, callbacks, leave_out=frozenset(), errors_left_out=False):
    register_import = checked(staff, content, callbacks)
    assert register_import.status == RegisterImport.Status.CHECKED, register_import.problem
    with callbacks(execute=True):
        register_import_start(
            register_import=register_import,
            by=staff,
            leave_out=set(leave_out),
            errors_left_out=errors_left_out,
        )
    register_import.refresh_from_db()
    return register_import


def snapshot():
    """Everything an import may write, to compare before and after."""
    return {
        "users": sorted(
            User.objects.filter(is_staff=False).values_list(
                "email", "first_name", "last_name", "password"
            )
        ),
        "profiles": sorted(
            Profile.objects.values_list(
                "user__email", "ods_code", "phone", "marketing_consent", "consultation_consent"
            )
        ),
        "memberships": sorted(
            Membership.objects.values_list("number", "status", "grade__slug", "expires_on")
        ),
        "periods": sorted(
            MembershipPeriod.objects.values_list("membership__number", "starts_on", "ends_on")
        ),
        "payments": Payment.objects.count(),
        # Days left at zero by a change are kept; a rebuild drops them.
        "days": sorted(
            row for row in MembershipDay.objects.values_list("day", *FIELDS) if any(row[1:])
        ),
    }


def test_a_clean_file_dry_runs_then_imports_with_numbers_and_paid_up_years(
    staff, django_capture_on_commit_callbacks
):
    register_import = checked(staff, csv_bytes(good_rows()), django_capture_on_commit_callbacks)
    assert register_import.check_counts == {"create": 3, "update": 0, "unchanged": 0, "error": 0}
    assert not Membership.objects.exists()  # the dry run wrote nothing

    with django_capture_on_commit_callbacks(execute=True):
        register_import_start(
            register_import=register_import, by=staff, leave_out=set(), errors_left_out=False
        )
    register_import.refresh_from_db()
    assert register_import.status == RegisterImport.Status.IMPORTED
    assert register_import.import_counts["created"] == 3

    ann = Membership.objects.select_related("user__profile", "grade").get(number="IGPM-005001")
    assert ann.user.email == "ann@example.org"
    assert (ann.user.first_name, ann.user.last_name) == ("Ann", "Archer")
    assert ann.grade.slug == "member"
    assert ann.status == Membership.Status.ACTIVE
    assert ann.expires_on == today() + datetime.timedelta(days=200)
    assert ann.user.profile.ods_code == "A81001"
    assert ann.user.profile.marketing_consent and not ann.user.profile.consultation_consent
    assert not ann.user.has_usable_password()
    [year] = ann.periods.all()
    assert year.ends_on == ann.expires_on
    assert year.starts_on == add_years(ann.expires_on, -1) + datetime.timedelta(days=1)
    assert year.payment.method == Payment.Method.IMPORTED
    assert year.payment.amount_pence == 0
    assert year.payment.status == Payment.Status.PAID
    bob = Membership.objects.get(number="IGPM-005002")
    assert bob.status == Membership.Status.IN_GRACE
    cat = Membership.objects.get(number="IGPM-005003")
    assert cat.status == Membership.Status.LAPSED
    assert cat.grade.slug == "associate"

    # Audited with counts, and one entry per member imported.
    entry = AuditEntry.objects.get(action="register_imported")
    assert entry.data["created"] == 3
    assert AuditEntry.objects.filter(action="imported").count() == 3

    # The report summary rows agree with counting from scratch.
    before = snapshot()["days"]
    membership_figures_rebuild()
    assert snapshot()["days"] == before

    # One invitation each, to claim the account.
    assert sorted(m.to[0] for m in mail.outbox) == [
        "ann@example.org",
        "bob@example.org",
        "cat@example.org",
    ]
    assert ClaimInvitation.objects.count() == 3


def test_the_dry_run_reports_every_bad_row_and_writes_nothing(
    staff, django_capture_on_commit_callbacks
):
    # Joined on the portal: holds a number already.
    holder = Membership.objects.get(user=active_member())
    rows = [
        *good_rows(),
        row("Dan Dixon", "dan@example.org", "5004", grade="Platinum"),
        row("Eve Evans", "not-an-email", "5005"),
        row("Fay Ford", "ann@example.org", "5006"),
        row("Gus Grant", "gus@example.org", holder.number),
        row("Hal Hume", "hal@example.org", "5008", joined="31/02/2020"),
        row("Ida Ince", "ida@example.org", "5009", paid_up="01/01/2019"),
        row("Joe Jones", "joe@example.org", "5010", ods="12345", marketing="maybe"),
    ]
    before = snapshot()
    register_import = checked(staff, csv_bytes(rows), django_capture_on_commit_callbacks)
    assert snapshot() == before
    assert register_import.check_counts["error"] == 8  # ann's email is on two rows
    errors = {
        row.line: " ".join(row.errors)
        for row in ImportRow.objects.filter(register_import=register_import, action="error")
    }
    assert "also on row 7" in errors[2]  # ann, duplicated by Fay on line 7
    assert "is not a grade" in errors[5]
    assert "not an email address" in errors[6]
    assert "also on row 2" in errors[7]
    assert "already used by someone else" in errors[8]
    assert "is not a date" in errors[9]
    assert "before the date they first joined" in errors[10]
    assert "is not an ODS code" in errors[11] and "is not yes or no" in errors[11]
    assert set(errors) == {2, 5, 6, 7, 8, 9, 10, 11}
    assert not mail.outbox

    # A file with errors is not imported unless those rows are left out.
    from members.register_import.services import ErrorsNotLeftOut

    with pytest.raises(ErrorsNotLeftOut):
        register_import_start(
            register_import=register_import, by=staff, leave_out=set(), errors_left_out=False
        )
    assert snapshot() == before


def test_staff_can_import_the_rows_they_choose(staff, django_capture_on_commit_callbacks):
    rows = [
        *good_rows(),
        [
            "Dan Dixon",
            "dan@example.org",
            "5004",
            "Platinum",
            "01/01/2020",
            day(30),
            "",
            "",
            "",
            "",
        ],
    ]
    register_import = imported(
        staff, csv_bytes(rows), django_capture_on_commit_callbacks,
        leave_out={3}, errors_left_out=True,
    )  # fmt: skip
    assert register_import.import_counts["created"] == 2
    assert register_import.import_counts["left_out"] == 2
    assert set(Membership.objects.values_list("number", flat=True)) == {
        "IGPM-005001",
        "IGPM-005003",
    }


def test_importing_the_same_file_twice_changes_nothing(staff, django_capture_on_commit_callbacks):
    content = csv_bytes(good_rows())
    imported(staff, content, django_capture_on_commit_callbacks)
    before = snapshot()
    sent = len(mail.outbox)
    again = checked(staff, content, django_capture_on_commit_callbacks)
    assert again.check_counts == {"create": 0, "update": 0, "unchanged": 3, "error": 0}
    with django_capture_on_commit_callbacks(execute=True):
        register_import_start(register_import=again, by=staff, leave_out=set(),
                              errors_left_out=False)  # fmt: skip
    again.refresh_from_db()
    assert again.import_counts["unchanged"] == 3
    assert snapshot() == before
    assert len(mail.outbox) == sent  # no second invitation
    assert ClaimInvitation.objects.count() == 3


def test_a_corrected_file_updates_only_what_changed(staff, django_capture_on_commit_callbacks):
    imported(staff, csv_bytes(good_rows()), django_capture_on_commit_callbacks)
    bob = User.objects.get(email="bob@example.org")
    bob_before = (bob.password, bob.membership.updated_at)
    corrected = good_rows()
    corrected[0][5] = day(500)  # Ann paid up for longer
    corrected[0][7] = "07700 900123"
    corrected[2][1] = "cat.cooper@example.org"  # Cat's address was wrong
    register_import = checked(staff, csv_bytes(corrected), django_capture_on_commit_callbacks)
    assert register_import.check_counts == {"create": 0, "update": 2, "unchanged": 1, "error": 0}
    ann_row = register_import.rows.get(line=2)
    assert set(ann_row.changes) == {"paid_up_until", "phone"}

    with django_capture_on_commit_callbacks(execute=True):
        register_import_start(register_import=register_import, by=staff, leave_out=set(),
                              errors_left_out=False)  # fmt: skip
    ann = Membership.objects.get(number="IGPM-005001")
    assert ann.expires_on == today() + datetime.timedelta(days=500)
    [year] = ann.periods.all()
    assert year.ends_on == ann.expires_on
    assert ann.user.profile.phone == "07700 900123"
    cat = Membership.objects.get(number="IGPM-005003")
    assert cat.user.email == "cat.cooper@example.org"
    assert cat.user.emailaddress_set.get().email == "cat.cooper@example.org"
    bob = User.objects.get(email="bob@example.org")
    assert (bob.password, bob.membership.updated_at) == bob_before
    assert AuditEntry.objects.filter(action="import_updated").count() == 2
    before = snapshot()["days"]
    membership_figures_rebuild()
    assert snapshot()["days"] == before


def test_the_number_sequence_continues_after_the_highest_imported(
    staff, django_capture_on_commit_callbacks
):
    imported(staff, csv_bytes(good_rows()), django_capture_on_commit_callbacks)
    assert membership_number_next() == "IGPM-005004"
    # A member joining afterwards gets the next number too.
    joiner = active_member()
    assert Membership.objects.get(user=joiner).number == "IGPM-005005"


def test_imported_members_renew_and_get_reminders_as_anyone(
    staff, django_capture_on_commit_callbacks
):
    from members.billing.services.invoices import InvoiceDetails, invoice_request
    from members.billing.services.notices import notices_sweep

    rows = [["Ann Archer", "ann@example.org", "5001", "Member", "01/01/2015", day(5),
             "", "", "", ""]]  # fmt: skip
    imported(staff, csv_bytes(rows), django_capture_on_commit_callbacks)
    membership = Membership.objects.get(number="IGPM-005001")
    queued = []
    result = notices_sweep(enqueue=queued.extend)
    assert result.notices["renewal_7"] == 1

    # Never claimed: the membership team invoices the renewal.
    with django_capture_on_commit_callbacks(execute=True):
        requested = invoice_request(
            membership=membership,
            by=staff,
            details=InvoiceDetails(organisation="Riverside Surgery", address="", accounts_email="",
                                   purchase_order=""),
        )  # fmt: skip
    invoice = requested.payment
    assert invoice.amount_pence == membership.grade.annual_fee_pence
    payment_fulfil(payment_id=invoice.pk)
    membership.refresh_from_db()
    assert membership.expires_on == add_years(today() + datetime.timedelta(days=5), 1)
    assert membership.periods.count() == 2

    # Renewed on the portal: a corrected file may not move the imported year.
    rows[0][5] = day(40)
    again = checked(staff, csv_bytes(rows), django_capture_on_commit_callbacks)
    assert again.check_counts["error"] == 1
    assert "paid on the portal since" in again.rows.get().errors[0]


def test_an_excel_file_reads_like_the_csv(staff, django_capture_on_commit_callbacks):
    rows = good_rows()
    rows[0][4] = datetime.datetime(2015, 4, 3)  # a real date cell
    register_import = checked(
        staff, xlsx_bytes(rows), django_capture_on_commit_callbacks, name="register.xlsx"
    )
    assert register_import.check_counts == {"create": 3, "update": 0, "unchanged": 0, "error": 0}


def test_the_dry_run_and_the_import_cost_queries_per_batch_not_per_row(
    staff, settings, monkeypatch, django_capture_on_commit_callbacks
):
    from members.register_import import tasks

    settings.REGISTER_IMPORT_BATCH = 10
    # The invitations are sent on the emails queue, by their own task.
    monkeypatch.setattr(tasks.claim_invitations_send_task, "delay", lambda ids: None)

    def rows(n, start):
        return [[f"Person {i}", f"p{i}@example.org", str(7000 + i), "Member", "01/01/2020",
                 day(100), "", "", "no", "no"] for i in range(start, start + n)]  # fmt: skip

    counts = []
    for n, start in ((10, 0), (40, 100)):
        with CaptureQueriesContext(connection) as check_queries:
            register_import = checked(
                staff, csv_bytes(rows(n, start)), django_capture_on_commit_callbacks
            )
        with (
            CaptureQueriesContext(connection) as import_queries,
            django_capture_on_commit_callbacks(execute=True),
        ):
            register_import_start(
                register_import=register_import, by=staff, leave_out=set(), errors_left_out=False
            )
        register_import.refresh_from_db()
        assert register_import.import_counts["created"] == n
        counts.append((len(check_queries), len(import_queries)))
    (check_1, import_1), (check_4, import_4) = counts
    # Four batches instead of one: three more batches' fixed cost, however
    # many rows each batch has.
    assert (check_4 - check_1) / 3 <= 6, counts
    assert (import_4 - import_1) / 3 <= 30, counts


def test_an_imported_members_certificate_says_when_they_first_joined(
    client, staff, django_capture_on_commit_callbacks
):
    import io

    from pypdf import PdfReader

    imported(staff, csv_bytes(good_rows()), django_capture_on_commit_callbacks)
    client.force_login(User.objects.get(email="ann@example.org"))
    response = client.get(reverse("members:certificate"))
    assert response.status_code == 200
    text = PdfReader(io.BytesIO(response.content)).pages[0].extract_text()
    assert "3 April 2015" in text


def test_a_member_paid_while_the_batch_was_being_written_keeps_the_payment(
    staff, monkeypatch, django_capture_on_commit_callbacks
):
    from members.register_import import services

    imported(staff, csv_bytes(good_rows()), django_capture_on_commit_callbacks)
    corrected = good_rows()
    corrected[0][5] = day(500)
    register_import = checked(staff, csv_bytes(corrected), django_capture_on_commit_callbacks)
    judge = services.rows_judge
    paid_until = today() + datetime.timedelta(days=565)

    def judged_then_paid(cleans):
        verdicts = judge(cleans)
        # A renewal commits between the judge's read and the write.
        Membership.objects.filter(number="IGPM-005001").update(expires_on=paid_until)
        return verdicts

    monkeypatch.setattr(services, "rows_judge", judged_then_paid)
    with django_capture_on_commit_callbacks(execute=True):
        register_import_start(
            register_import=register_import, by=staff, leave_out=set(), errors_left_out=False
        )
    register_import.refresh_from_db()
    assert register_import.import_counts["refused"] == 1
    assert Membership.objects.get(number="IGPM-005001").expires_on == paid_until
    assert "paid on the portal during the import" in register_import.rows.get(line=2).errors[0]


def test_a_member_who_claimed_while_the_batch_was_being_written_keeps_their_address(
    staff, monkeypatch, django_capture_on_commit_callbacks
):
    from allauth.account.models import EmailAddress

    from members.models import ImportedMember
    from members.register_import import services

    imported(staff, csv_bytes(good_rows()), django_capture_on_commit_callbacks)
    corrected = good_rows()
    corrected[0][1] = "ann.elsewhere@example.org"
    register_import = checked(staff, csv_bytes(corrected), django_capture_on_commit_callbacks)
    judge = services.rows_judge
    ann = User.objects.get(email="ann@example.org")

    def judged_then_claimed(cleans):
        verdicts = judge(cleans)
        # The claim commits between the judge's read and the write.
        ImportedMember.objects.filter(user=ann).update(claimed_at=timezone.now())
        EmailAddress.objects.filter(user=ann).update(verified=True)
        return verdicts

    monkeypatch.setattr(services, "rows_judge", judged_then_claimed)
    with django_capture_on_commit_callbacks(execute=True):
        register_import_start(
            register_import=register_import, by=staff, leave_out=set(), errors_left_out=False
        )
    register_import.refresh_from_db()
    assert register_import.import_counts["refused"] == 1
    row = register_import.rows.get(line=2)
    assert row.outcome == "refused"
    assert "claimed their account during the import" in row.errors[0]
    ann.refresh_from_db()
    assert ann.email == "ann@example.org"
    assert EmailAddress.objects.get(user=ann).email == "ann@example.org"
    assert EmailAddress.objects.get(user=ann).verified
