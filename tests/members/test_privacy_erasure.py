"""Delete my account: the member asks, staff confirm, and the member is then
found nowhere in the database but in anonymised records kept on purpose."""

import datetime
import re

import pytest
import time_machine
from allauth.account.models import EmailAddress
from allauth.mfa.models import Authenticator
from django.core import mail
from django.core.files.storage import default_storage
from django.db import IntegrityError, connection, transaction
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from accreditation.models import Application, Certificate, CpdEntry, Evidence
from events.models import Registration
from members.exceptions import IllegalTransition, PrivacyRequestRefused
from members.models import (
    AuditEntry,
    DataExport,
    ErasureRequest,
    Membership,
    Payment,
    Profile,
    Refund,
    Session,
    User,
)
from members.privacy import registry
from members.privacy.actions import Delete
from members.privacy.registry import REGISTRY
from members.privacy.services import (
    erasure_cancel,
    erasure_confirm,
    erasure_refuse,
    erasure_request,
)
from tests.conftest import reauthenticate
from tests.factories import ProfileFactory, StaffFactory, event, member_registration
from tests.members.privacy_world import EMAIL, FIRST, LAST, PHONE, administrator

pytestmark = pytest.mark.django_db

NEEDLES = {"first name": FIRST, "last name": LAST, "email": EMAIL, "phone": PHONE}


def database_mentions(needles: dict[str, str]) -> dict[tuple[str, str], list[str]]:
    """Every (table, column) of every table whose text, character or JSON
    value contains any of the needles (case-insensitive), with which."""
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT c.table_name, c.column_name
            FROM information_schema.columns c
            JOIN information_schema.tables t
              ON t.table_schema = c.table_schema AND t.table_name = c.table_name
            WHERE c.table_schema = current_schema()
              AND t.table_type = 'BASE TABLE'
              AND c.data_type IN ('character varying', 'character', 'text', 'json', 'jsonb')
            """
        )
        columns = cursor.fetchall()
        assert len(columns) > 50, "the search must see the whole schema"
        hits: dict[tuple[str, str], list[str]] = {}
        for table, column in columns:
            for label, needle in needles.items():
                pattern = "%" + re.sub(r"([%_\\])", r"\\\1", needle) + "%"
                cursor.execute(
                    f'SELECT count(*) FROM "{table}" WHERE "{column}"::text ILIKE %s',  # noqa: S608
                    [pattern],
                )
                if cursor.fetchone()[0]:
                    hits.setdefault((table, column), []).append(label)
    return hits


def erase_through_the_portal(client, world, capture):
    client.force_login(world.staff)
    request = ErasureRequest.objects.get(user=world.user, status="requested")
    with capture(execute=True):
        response = client.post(
            reverse("members:staff_erasure_decide", args=[request.pk]), {"decision": "confirm"}
        )
    assert response.status_code == 302, response.content.decode()[:3000]
    return request


# --- The member asks ------------------------------------------------------------


def test_member_confirms_with_a_tick_and_can_cancel(client):
    user = ProfileFactory().user
    client.force_login(user)
    reauthenticate(client)
    url = reverse("members:privacy_erasure")
    page = client.get(url).content.decode()
    assert "What is kept, and why" in page
    assert "six years" in page

    response = client.post(url, {})
    assert response.status_code == 400
    html = response.content.decode()
    assert "Tick the box to confirm you want your account deleted." in html
    assert 'id="id_confirm_error"' in html
    assert not ErasureRequest.objects.exists()

    response = client.post(url, {"confirm": "on"}, follow=True)
    assert "We have your request to delete your account" in response.content.decode()
    request = ErasureRequest.objects.get(user=user)
    assert request.status == "requested"
    assert AuditEntry.objects.filter(subject=user, action="erasure_requested").count() == 1
    assert "Cancel my request" in client.get(reverse("members:privacy")).content.decode()
    # The confirming step is not offered twice.
    assert client.get(url).status_code == 302

    client.post(reverse("members:privacy_erasure_cancel"))
    request.refresh_from_db()
    assert request.status == "cancelled"
    assert erasure_cancel(user=user) is None  # cancelling twice is harmless
    assert AuditEntry.objects.filter(subject=user, action="erasure_cancelled").count() == 1


def test_a_member_has_at_most_one_open_request():
    user = ProfileFactory().user
    erasure_request(user=user)
    with pytest.raises(PrivacyRequestRefused):
        erasure_request(user=user)
    with pytest.raises(IntegrityError), transaction.atomic():
        ErasureRequest.objects.create(user=user)
    erasure_cancel(user=user)
    erasure_request(user=user)  # after cancelling, they may ask again
    assert ErasureRequest.objects.filter(user=user).count() == 2


# --- Staff see and decide ------------------------------------------------------


def test_staff_see_open_requests_oldest_first_with_age_and_warnings(client):
    now = timezone.now()
    names = {}
    for days, last_name in ((2, "Recent"), (35, "Overdue"), (22, "Soon"), (30, "Today")):
        user = ProfileFactory(user__last_name=last_name).user
        with time_machine.travel(now - datetime.timedelta(days=days)):
            names[last_name] = erasure_request(user=user)
    decided = erasure_request(user=ProfileFactory().user)
    erasure_cancel(user=decided.user)

    client.force_login(administrator())
    page = client.get(reverse("members:staff_erasure_requests")).content.decode()
    rows = re.findall(r"<tr>(.*?)</tr>", page, re.S)
    open_rows = [row for row in rows if "staff/privacy/erasure/" in row][:4]
    order = [re.search(r"(Overdue|Today|Soon|Recent)</a>", row).group(1) for row in open_rows]
    assert order == ["Overdue", "Today", "Soon", "Recent"]
    by_name = dict(zip(order, open_rows, strict=True))
    assert "35 days" in by_name["Overdue"] and "tag--warning" in by_name["Overdue"]
    assert "30 days" in by_name["Today"] and ">Due soon<" in by_name["Today"]
    assert "22 days" in by_name["Soon"] and ">Due soon<" in by_name["Soon"]
    assert "2 days" in by_name["Recent"] and "tag" not in by_name["Recent"]
    assert "Cancelled by the member" in page

    home = client.get(reverse("members:staff_home")).content.decode()
    assert "4 requests to delete an account are waiting" in home
    assert "1 overdue" in home
    assert "2 due soon" in home


def test_only_staff_with_the_erasure_permission_see_requests(client):
    erasure_request(user=ProfileFactory().user)
    client.force_login(StaffFactory(mfa=True))
    assert client.get(reverse("members:staff_erasure_requests")).status_code == 403
    assert "Erasure requests" not in client.get(reverse("members:staff_home")).content.decode()


def test_the_request_list_runs_the_same_queries_for_1_or_30_requests(client):
    client.force_login(administrator())
    url = reverse("members:staff_erasure_requests")

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get(url).status_code == 200
        return len(captured)

    erasure_request(user=ProfileFactory().user)
    one = queries()
    for _ in range(29):
        erasure_request(user=ProfileFactory().user)
    assert queries() == one


def test_the_review_page_shows_what_erasure_will_do(client, everything):
    client.force_login(everything.staff)
    request = ErasureRequest.objects.get(user=everything.user)
    page = client.get(reverse("members:staff_erasure_request", args=[request.pk])).content.decode()
    assert EMAIL in page
    for holding in REGISTRY:
        assert holding.name[:1].upper() + holding.name[1:] in page


def test_refusing_needs_a_reason_and_tells_the_member(client, django_capture_on_commit_callbacks):
    user = ProfileFactory().user
    request = erasure_request(user=user)
    client.force_login(administrator())
    url = reverse("members:staff_erasure_decide", args=[request.pk])

    response = client.post(url, {"decision": "refuse", "reason": "  "})
    assert response.status_code == 400
    html = response.content.decode()
    assert "Give the member the reason for refusing." in html
    assert 'id="id_reason_error"' in html
    request.refresh_from_db()
    assert request.status == "requested"

    reason = "An unpaid invoice is with our solicitors."
    with django_capture_on_commit_callbacks(execute=True):
        client.post(url, {"decision": "refuse", "reason": reason})
    request.refresh_from_db()
    assert request.status == "refused"
    assert request.decided_at is not None
    (message,) = mail.outbox
    assert message.to == [user.email]
    assert reason in message.body
    assert "Information Commissioner" in message.body
    # Refusing again sends nothing more.
    with django_capture_on_commit_callbacks(execute=True):
        erasure_refuse(request=request, by=request.decided_by, reason=reason)
    assert len(mail.outbox) == 1
    with pytest.raises(IllegalTransition):
        erasure_confirm(request=request, by=request.decided_by)
    User.objects.get(pk=user.pk, is_active=True, email=user.email)


def test_staff_cannot_confirm_their_own_request():
    staff = administrator()
    request = erasure_request(user=staff)
    with pytest.raises(PrivacyRequestRefused, match="Another member of staff"):
        erasure_confirm(request=request, by=staff)
    request.refresh_from_db()
    assert request.status == "requested"


# --- Erasure --------------------------------------------------------------------


def test_after_erasure_the_member_is_nowhere_in_the_database(
    client, everything, django_capture_on_commit_callbacks
):
    before = database_mentions(NEEDLES)
    # The search finds the member where they were, so finding nothing after
    # means something.
    tables = {table for table, _ in before}
    assert {
        "members_user",
        "members_profile",
        "account_emailaddress",
        "members_auditentry",
        "members_payment",
        "members_refund",
        "members_stripeevent",
        "accreditation_application",
        "accreditation_certificate",
        "accreditation_cpdentry",
        "events_registration",
        "django_admin_log",
    } <= tables

    erase_through_the_portal(client, everything, django_capture_on_commit_callbacks)

    assert database_mentions(NEEDLES) == {}


def test_erasure_keeps_payments_and_certificate_numbers_and_removes_the_rest(
    client, everything, django_capture_on_commit_callbacks
):
    user = everything.user
    payments_before = list(Payment.objects.filter(user=user).values_list("pk", "amount_pence"))
    certificate = Certificate.objects.get(pk=everything.certificate_id)
    audit_before = AuditEntry.objects.filter(subject=user).count()
    files = [*everything.evidence_names, everything.certificate_pdf, everything.export_file]
    assert all(default_storage.exists(name) for name in files)

    registration_ids = list(
        registry.holding_for("events.Registration").rows(user).values_list("pk", flat=True)
    )
    assert len(registration_ids) == 2
    assert Session.objects.filter(user=user).exists()

    request = erase_through_the_portal(client, everything, django_capture_on_commit_callbacks)

    request.refresh_from_db()
    assert request.status == "completed"
    assert request.decided_by == everything.staff
    user.refresh_from_db()
    assert user.email == f"erased-{user.pk}@erased.invalid"
    assert (user.first_name, user.last_name) == ("", "")
    assert not user.has_usable_password()
    assert not user.is_active
    assert user.erased_at is not None
    assert not user.groups.exists() and not user.user_permissions.exists()
    for model in (Profile, EmailAddress, Authenticator, CpdEntry, DataExport):
        assert not model.objects.filter(user=user).exists(), model
    assert not Session.objects.filter(user=user).exists()
    assert not [
        session
        for session in Session.objects.all()
        if session.get_decoded().get("_auth_user_id") == str(user.pk)
    ]
    assert not Evidence.objects.exists()
    assert not Application.objects.filter(pk=everything.draft_application_id).exists()
    assert not any(default_storage.exists(name) for name in files)

    # Kept on purpose, without the personal fields.
    assert list(Payment.objects.filter(user=user).values_list("pk", "amount_pence")) == (
        payments_before
    )
    assert not Payment.objects.exclude(invoice_organisation="").exists()
    assert Refund.objects.get().amount_pence == 500
    assert Membership.objects.get(user=user).status == "cancelled"
    kept = Certificate.objects.get(pk=certificate.pk)
    assert kept.number == certificate.number and kept.holder_name == "" and not kept.pdf
    assert not kept.on_public_register
    (certified,) = Application.objects.filter(applicant=user)
    assert certified.referee_1_name == "" and certified.qualification_title == ""
    registrations = Registration.objects.filter(pk__in=registration_ids)
    assert {r.status for r in registrations} == {"cancelled"}  # both events are ahead
    assert all(r.anonymised_at and r.name == "Anonymised attendee" for r in registrations)
    assert AuditEntry.objects.filter(subject=user).count() > audit_before
    assert not AuditEntry.objects.filter(subject=user).exclude(reason="").exists()
    erased = AuditEntry.objects.get(action="erased")
    assert erased.actor == everything.staff
    assert set(erased.data) == {"rows_changed"}
    assert erased.data["rows_changed"]["members.Profile"] == 1

    # One goodbye, to the address the account had.
    (goodbye,) = [m for m in mail.outbox if "has been deleted" in m.subject]
    assert goodbye.to == [EMAIL]


def test_the_certificate_check_gives_a_neutral_answer_after_erasure(
    client, everything, django_capture_on_commit_callbacks
):
    certificate = Certificate.objects.get(pk=everything.certificate_id)
    by_code = reverse("accreditation:verify", args=[certificate.verification_code])
    by_number = (
        reverse("accreditation:verify_search") + f"?number={certificate.number}&surname=Smith"
    )
    assert FIRST in client.get(by_code).content.decode()
    listed = f"<td>{certificate.number}</td>"
    assert listed in client.get(reverse("accreditation:register")).content.decode()

    erase_through_the_portal(client, everything, django_capture_on_commit_callbacks)
    client.logout()

    for url in (by_code, by_number):
        response = client.get(url)
        assert response.status_code == 200
        html = response.content.decode()
        assert "This certificate cannot be verified" in html
        assert FIRST not in html and LAST not in html
        assert "is valid" not in html
    assert listed not in client.get(reverse("accreditation:register")).content.decode()


def test_confirming_twice_changes_nothing(client, everything, django_capture_on_commit_callbacks):
    request = erase_through_the_portal(client, everything, django_capture_on_commit_callbacks)
    snapshot = database_rows()
    sent = len(mail.outbox)

    with django_capture_on_commit_callbacks(execute=True):
        assert erasure_confirm(request=request, by=everything.staff) == {}
        response = client.post(
            reverse("members:staff_erasure_decide", args=[request.pk]), {"decision": "confirm"}
        )
    assert response.status_code == 302
    assert database_rows() == snapshot
    assert len(mail.outbox) == sent


def database_rows() -> dict[str, list]:
    """Every row of every registry model, as stored."""
    return {
        holding.label: list(holding.model.objects.order_by("pk").values()) for holding in REGISTRY
    }


def test_a_failure_during_erasure_leaves_everything_as_it_was(
    everything, monkeypatch, django_capture_on_commit_callbacks
):
    request = ErasureRequest.objects.get(user=everything.user)
    snapshot = database_rows()
    files = [*everything.evidence_names, everything.certificate_pdf]

    def fail(rows, erasing):
        raise RuntimeError("disk full")

    # Fail late: after the profile, evidence and applications have gone.
    audit = registry.holding_for("members.AuditEntry")
    monkeypatch.setattr(audit.erase, "function", fail)
    with django_capture_on_commit_callbacks(execute=True), pytest.raises(RuntimeError):
        erasure_confirm(request=request, by=everything.staff)

    assert database_rows() == snapshot
    assert all(default_storage.exists(name) for name in files)
    request.refresh_from_db()
    assert request.status == "requested"


def test_an_upcoming_place_goes_to_the_next_person_waiting(django_capture_on_commit_callbacks):
    ev = event(capacity=1)
    leaving = ProfileFactory().user
    waiting = ProfileFactory().user
    with django_capture_on_commit_callbacks(execute=True):
        mine = member_registration(ev, leaving)
        theirs = member_registration(ev, waiting)
    assert (mine.status, theirs.status) == ("confirmed", "waiting")
    sent = len(mail.outbox)
    leaving_email = leaving.email

    with django_capture_on_commit_callbacks(execute=True):
        erasure_confirm(request=erasure_request(user=leaving), by=administrator())

    mine.refresh_from_db()
    theirs.refresh_from_db()
    assert mine.status == "cancelled" and mine.anonymised_at is not None
    assert theirs.status == "offered"
    new = mail.outbox[sent:]
    # The next in line hears of the place; the erased member gets only the
    # goodbye, to their old address, and no cancellation.
    assert sorted((m.to[0], m.subject) for m in new) == sorted(
        [
            (waiting.email, new_subject(new, waiting.email)),
            (leaving_email, "[IGPM] Your IGPM account has been deleted"),
        ]
    )


def new_subject(messages, address: str) -> str:
    (message,) = [m for m in messages if m.to == [address]]
    assert "place" in message.subject.lower()
    return message.subject


def test_every_deleted_kind_of_record_is_gone(
    client, everything, django_capture_on_commit_callbacks
):
    user = everything.user
    erase_through_the_portal(client, everything, django_capture_on_commit_callbacks)
    for holding in REGISTRY:
        if isinstance(holding.erase, Delete):
            assert not holding.rows(user).exists(), holding.label


def test_a_payment_arriving_after_erasure_renews_nothing(django_capture_on_commit_callbacks):
    from members.billing.services.payments import payment_create, payment_fulfil
    from members.models import Membership, Payment
    from tests.factories import MembershipFactory

    membership = MembershipFactory()
    payment = payment_create(membership=membership, method="offline", by=membership.user)
    with django_capture_on_commit_callbacks(execute=True):
        erasure_confirm(request=erasure_request(user=membership.user), by=administrator())
    sent = len(mail.outbox)
    status_after_erasure = Membership.objects.get(pk=membership.pk).status

    with django_capture_on_commit_callbacks(execute=True):
        assert payment_fulfil(payment_id=payment.pk, actor_label="stripe") is True
        assert payment_fulfil(payment_id=payment.pk, actor_label="stripe") is False

    payment.refresh_from_db()
    membership.refresh_from_db()
    # Held, not paid: money after erasure buys no year and waits in the
    # membership team's needs-attention queue for a refund.
    assert payment.status == Payment.Status.HELD
    assert payment.attention_reason == Payment.Attention.AFTER_ERASURE
    assert membership.status == status_after_erasure == Membership.Status.CANCELLED
    assert not membership.periods.exists()
    assert len(mail.outbox) == sent  # no receipt to an erased address
    entry = AuditEntry.objects.get(action="payment_received_after_erasure")
    assert entry.target_id == payment.pk and "refund it" in entry.reason
