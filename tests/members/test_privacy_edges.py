"""Edges of export and erasure: rows that are a member's only in part,
addresses that moved between accounts, and files that will not go."""

import datetime

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.utils import timezone

from accreditation.models import CertificateNotice
from accreditation.notices import certificate_notices_sweep
from accreditation.services import application_approve, application_assign
from events.models import Registration
from members.billing.services.membership import membership_override_status
from members.models import Membership, User
from members.privacy.registry import holding_for
from members.privacy.services import (
    data_export_build,
    data_export_request,
    erasure_confirm,
    erasure_request,
)
from tests.accreditation.test_applications import submitted_application
from tests.factories import ProfileFactory, active_member, assessor, event, member_registration
from tests.members.privacy_world import administrator
from tests.members.test_privacy_export import archive_of, section

pytestmark = pytest.mark.django_db


def test_another_members_places_are_not_found_by_an_address_they_gave_up():
    first = ProfileFactory().user
    theirs = member_registration(event(), first)
    address = first.email
    User.objects.filter(pk=first.pk).update(email="first-new@example.org")
    # Their address, now someone else's (unverified, as it was verified for the first).
    second = ProfileFactory(user__email=address, user__verified=False).user
    visitor_booking = Registration.objects.create(
        event=event(),
        name="As a visitor",
        email=address,
        organisation="Hilltop Surgery",
        role="Receptionist",
        status=Registration.Status.CONFIRMED,
    )

    found = set(holding_for("events.Registration").rows(second).values_list("pk", flat=True))
    assert found == {visitor_booking.pk}
    assert theirs.pk not in found


def test_a_staff_members_export_leaves_out_what_they_wrote_about_others():
    staff = administrator()
    membership = active_member().membership
    membership_override_status(
        membership=membership,
        status=Membership.Status.LAPSED,
        reason="Moved to a practice in Wales",
        by=staff,
    )
    export = data_export_request(user=staff)
    data_export_build(export_id=export.pk)

    rows = section(archive_of(type(export).objects.get(pk=export.pk)), "audit_trail")
    acted = [row for row in rows if row["action"] == "status_overridden"]
    assert len(acted) == 1
    assert acted[0]["actor_id"] == staff.pk
    assert acted[0]["to_state"] == "lapsed"
    assert "reason" not in acted[0] and "subject_id" not in acted[0]
    assert "Moved to a practice in Wales" not in str(rows)
    # Their own entries (asking for this export) keep everything.
    own = [row for row in rows if row["action"] == "data_export_requested"]
    assert own and own[0]["subject_id"] == staff.pk


def test_an_erased_holder_gets_no_certificate_reminders(client, pathway):
    application = submitted_application(client, pathway)
    reviewer = assessor()
    application_assign(application=application, assessor=reviewer)
    certificate = application_approve(application=application, by=reviewer)
    today = certificate.expires_on - datetime.timedelta(days=20)
    holder = certificate.holder
    assert certificate_notices_sweep(today=today, enqueue=lambda ids: None)["expiry_30"] == 1
    CertificateNotice.objects.all().delete()

    User.objects.filter(pk=holder.pk).update(erased_at=timezone.now())
    certificate_notices_sweep(today=today, enqueue=lambda ids: None)
    assert not CertificateNotice.objects.filter(certificate=certificate).exists()


def test_one_file_that_will_not_go_does_not_keep_the_others(
    monkeypatch, django_capture_on_commit_callbacks
):
    member = ProfileFactory().user
    first = data_export_request(user=member)
    data_export_build(export_id=first.pk)
    stuck = type(first).objects.get(pk=first.pk).file.name
    other = default_storage.save("exports/second.zip", ContentFile(b"PK"))
    type(first).objects.create(
        user=member,
        status="ready",
        file=other,
        ready_at=timezone.now(),
        expires_at=timezone.now() + datetime.timedelta(days=7),
    )
    real_delete = default_storage.delete

    def delete(name):
        if name == stuck:
            raise OSError("disk says no")
        real_delete(name)

    monkeypatch.setattr(default_storage, "delete", delete)
    with django_capture_on_commit_callbacks(execute=True):
        erasure_confirm(request=erasure_request(user=member), by=administrator())
    assert not default_storage.exists(other)
    assert default_storage.exists(stuck)
    assert User.objects.get(pk=member.pk).erased_at is not None
